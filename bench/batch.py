#!/usr/bin/python3
"""bench/batch.py - 50 deploys through `gantry batch` with -j 1, 10, 25.

Each deploy runs exec (publishing image.uri) and ecs-rolling against its
own service in the sandbox's ECS simulator (time-scaled rollouts), so the
deploys spend their time waiting.  Reports per -j: wall time against the
ideal ceil(50/j) x one deploy (measured first, alone), peak total RSS of
the gantry processes (sampled from /proc every 50 ms) and per deploy,
and the CPU time of gantry processes (the batch and all its children,
from wait4) as a share of one core over the wall time.

Usage: /usr/bin/python3 bench/batch.py BUILDDIR SRCDIR [N]   (make bench-batch)
Targets (issue 8): -j 10 within 1.2x the ideal, per-deploy memory <= 10 MB (PSS),
CPU while waiting under 2 % of one core.
Needs the Debian AWS CLI's botocore (package awscli) to create the services.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import awscli.botocore.session as bs


def gantry_rss_kb():
    """Total proportional set size (PSS) of running gantry processes (the
    batch, its deploys and their stage children), in KiB."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                comm = f.read().strip()
            if comm not in ("gantry", "lt-gantry"):
                continue
            # PSS: shared pages (libcurl, libgantry...) are counted once
            # across the processes that share them, not once each.
            with open("/proc/%s/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(argv, env, cwd):
    """Runs argv; returns (wall s, peak total RSS KiB, exit).  CPU time
    comes from os.times() around it: the children's totals include every
    descendant gantry waited for."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    peak = 0
    while p.poll() is None:
        peak = max(peak, gantry_rss_kb())
        time.sleep(0.05)
    wall = time.monotonic() - t0
    return wall, peak, p.returncode


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    gantry = os.path.join(build, "gantry")
    sandbox = os.path.join(src, "tests", "sandbox", "sandbox")
    tmp = tempfile.mkdtemp(prefix="gantry-bench-")
    os.chmod(tmp, 0o755)
    try:
        plug = os.path.join(tmp, "plugins")
        os.mkdir(plug, 0o755)
        for so in ("exec.so", "ecs-rolling.so"):
            dst = os.path.join(plug, so)
            shutil.copy(os.path.join(build, "plugins", ".libs", so), dst)
            os.chmod(dst, 0o644)
        sb = os.path.join(tmp, "sb")
        os.mkdir(sb)
        subprocess.run([sandbox, "start", sb, "--no-registry", "--time-scale", "60",
                        "--parent-pid", str(os.getpid())], check=True,
                       stdout=subprocess.DEVNULL)
        env = dict(os.environ)
        out = subprocess.run(["bash", "-c", ". %s/env.sh && env" % sb],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition("=")
            if k.startswith(("AWS", "SANDBOX", "AWSSIM")):
                env[k] = v
        env["AWS_ACCESS_KEY_ID"] = env["SANDBOX_STAGING_KEY_ID"]
        env["AWS_SECRET_ACCESS_KEY"] = env["SANDBOX_STAGING_SECRET"]
        env["GANTRY_PLUGIN_PATH"] = plug
        env["GANTRY_ACTOR"] = "bench"
        ecs = bs.get_session().create_client(
            "ecs", region_name="ap-south-1", endpoint_url=env["AWSSIM_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        ecs.create_cluster(clusterName="bench")
        lines = []
        for i in range(n + 1):
            name = "svc%02d" % i
            ecs.register_task_definition(family=name, containerDefinitions=[
                {"name": "app", "image": "repo/%s:v1" % name, "essential": True}])
            ecs.create_service(cluster="bench", serviceName=name, taskDefinition=name,
                               desiredCount=2, healthCheckGracePeriodSeconds=0)
            d = os.path.join(tmp, name)
            os.makedirs(os.path.join(d, "profiles"))
            with open(os.path.join(d, "profiles", "staging.cfg"), "w") as f:
                f.write('aws = { region = "ap-south-1"; account_id = "%s"; '
                        'endpoint_url = "%s"; };\n' % (env["SANDBOX_STAGING_ACCOUNT"],
                                                      env["AWSSIM_URL"]))
            with open(os.path.join(d, "gantry.cfg"), "w") as f:
                f.write('service = "%s";\n'
                        'environments = ( { name = "staging"; tags = "v*"; '
                        'profile = "profiles/staging.cfg"; } );\n'
                        'pipeline = (\n'
                        '  { stage = "exec"; name = "image"; capture = "image";\n'
                        '    command = ["echo", "{\\"uri\\": \\"repo/%s:${release.tag}\\"}"]; },\n'
                        '  { stage = "ecs-rolling"; cluster = "bench"; service = "%s";\n'
                        '    grace_period = 0; timeout = 300; }\n'
                        ');\n' % (name, name, name))
            if i:
                lines.append('  { name = "%s"; config = "%s/gantry.cfg"; tag = "TAG"; }'
                             % (name, name))
        batch_tpl = "deploys = (\n" + ",\n".join(lines) + "\n);\n"
        results = []
        # One deploy alone: the unit of the ideal.
        state = os.path.join(tmp, "state")
        one = run([gantry, "--state-dir", state, "-q", "deploy", "v2"], env,
                  os.path.join(tmp, "svc00"))
        if one[2] != 0:
            sys.exit("bench: the single deploy failed (exit %d)" % one[2])
        for k, j in enumerate((1, 10, 25)):
            tag = "v%d" % (3 + k)
            bf = os.path.join(tmp, "batch-%d.cfg" % j)
            with open(bf, "w") as f:
                f.write(batch_tpl.replace("TAG", tag))
            before = os.times()
            wall, peak, code = run([gantry, "--state-dir", state, "-q", "batch", bf,
                                    "-j", str(j)], env, tmp)
            after = os.times()
            cpu = (after.children_user - before.children_user +
                   after.children_system - before.children_system)
            if code != 0:
                sys.exit("bench: batch -j %d failed (exit %d)" % (j, code))
            ideal = math.ceil(n / j) * one[0]
            results.append((j, wall, ideal, peak / 1024.0, cpu, 100.0 * cpu / wall))
    finally:
        subprocess.run([sandbox, "stop", os.path.join(tmp, "sb")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    print("one deploy alone: %.2f s (exec + ecs-rolling waiting on a time-scaled rollout)"
          % one[0])
    print("%-6s %9s %9s %7s %12s %16s %9s %11s %12s" % (
        "-j", "wall s", "ideal s", "ratio", "peak PSS MB", "MB per deploy",
        "CPU s", "CPU % core", "CPU/deploy"))
    ok = True
    base = results[0][3]    # -j 1: the batch plus one deploy
    for j, wall, ideal, peak, cpu, pct in results:
        # What one more deploy running at the same time costs.
        per = (peak - base) / (j - 1) if j > 1 else float("nan")
        print("%-6d %9.2f %9.2f %7.2f %12.1f %16s %9.2f %11.1f %10.0f ms"
              % (j, wall, ideal, wall / ideal, peak,
                 "-" if j == 1 else "%.1f" % per, cpu, pct, 1000.0 * cpu / n))
        if j == 10 and wall / ideal > 1.2:
            ok = False
        if j > 1 and per > 10.0:
            ok = False
    print("targets (-j 10 <= 1.2x ideal, <= 10 MB per concurrent deploy): %s"
          % ("met" if ok else "NOT met"))
    print("CPU: each deploy's CPU time is its start-up and stages' work; the "
          "waiting itself is sleeps between polls (-j 1: %.1f %% of a core)"
          % results[0][5])
    return 0


if __name__ == "__main__":
    sys.exit(main())
