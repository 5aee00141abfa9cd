#!/usr/bin/env python3
"""progressive.py - the same broken release under the same load, deployed
by gantry with ECS's rolling, canary and blue/green strategies, against the
sandbox (tests/sandbox): how many production requests reached it, how fast
gantry asked ECS to roll back once smoke failed, and how many ECS calls
gantry makes while a deployment waits.

    python3 bench/progressive.py BUILDDIR SRCDIR [--time-scale 10]
        [--rate 40] [--pause-seconds 60] [--bake-seconds 600]
        [--only rolling,canary,blue_green,waits] [--keep]
    make bench-progressive

Each scenario gets its own blue/green-capable service (two target groups,
production and test listener rules) running v1 on 2 tasks, bound to the
sandbox's listeners; contrib/demo/loadgen.py sends --rate requests/s (one
connection, kept alive) to the production listener while gantry deploys
the same image, repo/web:v2-bad (the simulator's tasks answer 500 for a
tag with the word "bad"; /health passes, so ECS sees healthy tasks):

  rolling     ecs-rolling (rolling), then smoke on the production
              listener, on_failure = "rollback" (the rollback callback
              redeploys v1)
  canary      ecs-rolling strategy = "canary", 10 % for canary_bake_time
              = 120 s, then smoke on the production listener, on_failure
              = "rollback": the usual "deploy, then smoke" order (ECS's
              canary has no pause inside its bake)
  blue_green  ecs-rolling strategy = "blue_green", pause_at =
              "POST_TEST_TRAFFIC_SHIFT", smoke on the test listener,
              on_failure = "rollback" (the pausing entry answers the hook
              ROLLBACK), then ecs-rolling mode = "continue"

and then a good release (repo/web:v3) blue/green with an exec stage
sleeping --pause-seconds between the pause and the continue (an approval's
wait) and bake_time = --bake-seconds (simulated) after it.

Figures, per scenario:
  bad   production requests answered by v2-bad (load generator's count)
  fail  production requests that failed (non-2xx or no answer)
  time  gantry's wall time
  smoke->rb  real time from smoke's failure (the stamp of its "failed
        after" line on gantry's stderr, read as it is written) to the
        first ECS call after it that rolls back (ContinueServiceDeployment
        ROLLBACK, StopServiceDeployment or UpdateService, stamped by a
        thread that reads the simulator's /_sim/calls every 0.1 s):
        resolution ~0.1 s
and for the waits: ECS calls per real minute (gantry -v's "aws: ecs OP"
lines, one per attempt) while paused (while the exec stage runs: from its
start line to the continue entry's) and while following the bake (from
the ContinueServiceDeployment to gantry's exit).

Not part of make check.  Exit 0 when every scenario ran (whatever the
figures), 1 when one could not, 77 when something it needs is missing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "ecs_call", os.path.join(SRC, "contrib", "demo", "ecs-call.py"))
ecs_call = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ecs_call)

BAD = "v2-bad"
ECS = "ecs"
ROLLBACK_OPS = ("ContinueServiceDeployment", "StopServiceDeployment",
                "UpdateService")


def control(url, path, body=None):
    req = urllib.request.Request(url + "/_sim/" + path,
                                 data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


class Calls(threading.Thread):
    """Stamps every AWS call the simulator records with the real time it
    was first seen (polling /_sim/calls every 0.1 s)."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.stamps = []
        self.halt = False

    def run(self):
        while not self.halt:
            try:
                n = len(control(self.url, "calls")["calls"])
            except OSError:
                n = len(self.stamps)
            now = time.time()
            while len(self.stamps) < n:
                self.stamps.append(now)
            time.sleep(0.1)

    def bodies(self):
        return control(self.url, "calls", {"bodies": True})["calls"]


class Bench:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.dir = tempfile.mkdtemp(prefix="gantry-bench-progressive.")
        self.sb = os.path.join(self.dir, "sb")
        subprocess.run([os.path.join(SRC, "tests/sandbox/sandbox"), "start",
                        self.sb, "--no-registry", "--time-scale",
                        str(a.time_scale), "--parent-pid", str(os.getpid()),
                        "--max-lifetime", "1800"], check=True,
                       stdout=subprocess.DEVNULL)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("AWS_", "GANTRY_"))}
        out = subprocess.run(["bash", "-c", ". %s/env.sh && env" % self.sb],
                             capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            k, _, v = line.partition("=")
            if k.startswith(("AWS", "SANDBOX", "GANTRY_SANDBOX")):
                self.env[k] = v
        self.env["AWS_ACCESS_KEY_ID"] = self.env["SANDBOX_STAGING_KEY_ID"]
        self.env["AWS_SECRET_ACCESS_KEY"] = self.env["SANDBOX_STAGING_SECRET"]
        self.account = self.env["SANDBOX_STAGING_ACCOUNT"]
        self.url = self.env["AWSSIM_URL"]
        self.plugins = os.path.join(self.dir, "plugins")
        os.mkdir(self.plugins, 0o755)
        for name in ("ecs-rolling", "smoke", "exec"):
            dst = os.path.join(self.plugins, name + ".so")
            shutil.copy(os.path.join(self.build, "plugins", ".libs",
                                     name + ".so"), dst)
            os.chmod(dst, 0o644)
        self.ecs("CreateCluster", {"clusterName": "bench"})
        self.calls = Calls(self.url)
        self.calls.start()

    def close(self):
        self.calls.halt = True
        subprocess.run([os.path.join(SRC, "tests/sandbox/sandbox"), "stop",
                        self.sb], stdout=subprocess.DEVNULL)
        if self.a.keep:
            print("kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def ecs(self, op, params):
        return ecs_call.call(op, params, self.env)

    # -- a service running v1 behind the listeners

    def service(self, name):
        td = self.ecs("RegisterTaskDefinition", {
            "family": name, "containerDefinitions": [{
                "name": "app", "image": "repo/web:v1", "essential": True,
                "memory": 128, "portMappings": [{"containerPort": 8080}]}]}
        )["taskDefinition"]["taskDefinitionArn"]
        elb = "arn:aws:elasticloadbalancing:ap-south-1:%s:" % self.account
        self.ecs("CreateService", {
            "cluster": "bench", "serviceName": name, "taskDefinition": td,
            "desiredCount": 2, "healthCheckGracePeriodSeconds": 30,
            "loadBalancers": [{
                "targetGroupArn": elb + "targetgroup/%s-blue/0a" % name,
                "containerName": "app", "containerPort": 8080,
                "advancedConfiguration": {
                    "alternateTargetGroupArn":
                        elb + "targetgroup/%s-green/0b" % name,
                    "productionListenerRule":
                        elb + "listener-rule/app/%s/01/02/prod" % name,
                    "testListenerRule":
                        elb + "listener-rule/app/%s/01/02/test" % name,
                    "roleArn": "arn:aws:iam::%s:role/ecs-bg" % self.account}}],
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True,
                                             "rollback": True}}})
        control(self.url, "traffic/bind", {
            "account": self.account, "region": "ap-south-1",
            "cluster": "bench", "service": name})
        # Settled: one deployment, COMPLETED (the blue a blue/green or
        # canary deployment goes back to), and v1 on the listener.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            deps = self.ecs("DescribeServices", {
                "cluster": "bench", "services": [name]}
            )["services"][0]["deployments"]
            if len(deps) == 1 and deps[0].get("rolloutState") == \
                    "COMPLETED" and self.prod_version() == "v1":
                return
            time.sleep(0.2)
        raise RuntimeError("service %s did not settle on v1" % name)

    def prod_version(self):
        try:
            with urllib.request.urlopen(
                    "http://%s/" % self.env["SANDBOX_PROD_LISTENER"],
                    timeout=2) as r:
                return r.headers.get("X-App-Version")
        except OSError:
            return None

    # -- one gantry deploy under load

    def run(self, name, entries):
        cfg = os.path.join(self.dir, name)
        os.makedirs(os.path.join(cfg, "profiles"))
        with open(os.path.join(cfg, "gantry.cfg"), "w") as f:
            f.write('service = "%s";\nenvironments = ( { name = "bench"; '
                    'tags = "v*"; profile = "profiles/bench.cfg"; } );\n'
                    'pipeline = (\n%s\n);\n'
                    % (name, ",\n".join("  { %s }" % e for e in entries)))
        with open(os.path.join(cfg, "profiles", "bench.cfg"), "w") as f:
            f.write('aws = { region = "ap-south-1"; account_id = "%s"; '
                    'endpoint_url = "%s"; };\nstages = {\n'
                    % (self.account, self.url))
            for entry in ("ecs-rolling", "ecs-continue"):
                if entry == "ecs-rolling" or \
                        any('"%s"' % entry in e for e in entries):
                    f.write('  %s = { cluster = "bench"; service = "%s"; };\n'
                            % (entry, name))
            f.write('};\n')
        env = dict(self.env, GANTRY_PLUGIN_PATH=self.plugins,
                   GANTRY_STATE_DIR=os.path.join(cfg, "state"),
                   GANTRY_ACTOR="bench")
        out = os.path.join(cfg, "load.json")
        load = subprocess.Popen([
            sys.executable, os.path.join(SRC, "contrib/demo/loadgen.py"),
            "--target", self.env["SANDBOX_PROD_LISTENER"],
            "--rate", str(self.a.rate), "--max-seconds", "1500",
            "--parent-pid", str(os.getpid()), "--out", out])
        time.sleep(0.5)
        n0 = len(self.calls.stamps)
        t0 = time.time()
        p = subprocess.Popen([os.path.join(self.build, "gantry"), "-v",
                              "deploy", "v1.0.0"], cwd=cfg, env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        lines = []
        for line in p.stderr:
            lines.append((time.time(), line.rstrip("\n")))
        rc = p.wait()
        t1 = time.time()
        time.sleep(0.5)
        load.terminate()
        load.wait(30)
        with open(out) as f:
            counts = json.load(f)
        time.sleep(0.3)                 # the poller sees the last calls
        with open(os.path.join(cfg, "gantry.log"), "w") as f:
            f.writelines("%.3f %s\n" % x for x in lines)
        return {"rc": rc, "t0": t0, "t1": t1, "lines": lines,
                "load": counts, "n0": n0, "log": os.path.join(cfg,
                                                            "gantry.log")}

    def ecs_calls(self, r):
        """[(stamp, call)] of the ECS calls gantry made in run r."""
        calls = self.calls.bodies()
        stamps = self.calls.stamps
        return [(stamps[i] if i < len(stamps) else time.time(), c)
                for i, c in enumerate(calls)
                if i >= r["n0"] and c.get("service") == ECS and
                (c.get("user_agent") or "").startswith("gantry/")]


def tail(r, n=6):
    return "\n    ".join(line for _, line in r["lines"][-n:])


def log_calls(r):
    """[(stamp, operation)] of the ECS calls gantry -v logged ("aws: ecs OP
    attempt N: ..."), stamped as the lines were read."""
    out = []
    for t, line in r["lines"]:
        if "] aws: ecs " in line:
            out.append((t, line.split("] aws: ecs ", 1)[1].split()[0]))
    return out


def line_at(r, *words):
    for t, line in r["lines"]:
        if all(w in line for w in words):
            return t
    return None


def smoke_to_rollback(bench, r):
    t_fail = line_at(r, "failed after")
    if t_fail is None:
        return None, "smoke did not fail"
    for t, c in bench.ecs_calls(r):
        if c["operation"] not in ROLLBACK_OPS or t < t_fail - 0.2:
            continue
        params = c.get("params") or {}
        if c["operation"] == "ContinueServiceDeployment" and \
                params.get("action", "CONTINUE") != "ROLLBACK":
            continue
        return max(0.0, t - t_fail), c["operation"]
    return None, "no rollback request"


def bad_scenarios(bench, a):
    prod = "http://%s/" % bench.env["SANDBOX_PROD_LISTENER"]
    test = "http://%s/" % bench.env["SANDBOX_TEST_LISTENER"]
    image = 'image = "repo/web:%s";' % BAD
    smoke = ('stage = "smoke"; on_failure = "rollback"; attempts = 3; '
             'interval = 1; url = "%s";')
    return [
        ("rolling", [
            'stage = "ecs-rolling"; %s timeout = 900;' % image,
            smoke % prod]),
        ("canary", [
            'stage = "ecs-rolling"; strategy = "canary"; '
            'canary_percent = "10"; canary_bake_time = 120; %s '
            'timeout = 900;' % image,
            smoke % prod]),
        ("blue_green", [
            'stage = "ecs-rolling"; strategy = "blue_green"; bake_time = 60; '
            'pause_at = "POST_TEST_TRAFFIC_SHIFT"; %s timeout = 900;' % image,
            smoke % test,
            'stage = "ecs-rolling"; name = "ecs-continue"; '
            'mode = "continue"; timeout = 900;']),
    ]


def per_minute(calls, t_from, t_to):
    n = sum(1 for t, _ in calls if t_from <= t < t_to)
    span = max(t_to - t_from, 1e-6)
    return n, span, n * 60.0 / span


def main():
    p = argparse.ArgumentParser(prog="progressive.py")
    p.add_argument("build")
    p.add_argument("src")
    p.add_argument("--time-scale", type=float, default=10)
    p.add_argument("--rate", type=float, default=40)
    p.add_argument("--pause-seconds", type=int, default=60)
    p.add_argument("--bake-seconds", type=int, default=600,
                   help="simulated seconds (real: / --time-scale)")
    p.add_argument("--only", default="rolling,canary,blue_green,waits")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (each scenario's gantry.cfg, "
                        "gantry.log with stamps, load.json)")
    a = p.parse_args()
    only = a.only.split(",")
    unknown = set(only) - {"rolling", "canary", "blue_green", "waits"}
    if unknown:
        p.error("--only: unknown scenario %s" % ", ".join(sorted(unknown)))
    if not os.path.exists(os.path.join(a.build, "plugins", ".libs",
                                       "ecs-rolling.so")):
        print("SKIP: %s has no built plugins; run make" % a.build)
        return 77
    bench = Bench(a)
    rows, waits, problems = [], None, []
    try:
        for name, entries in bad_scenarios(bench, a):
            if name not in only:
                continue
            bench.service("web-" + name.replace("_", "-"))
            print("%s: deploying repo/web:%s under %g requests/s ..."
                  % (name, BAD, a.rate), flush=True)
            r = bench.run("web-" + name.replace("_", "-"), entries)
            lat, how = smoke_to_rollback(bench, r)
            load = r["load"]
            rows.append((name, r["rc"], load["by_version"].get(BAD, 0),
                         load["failed"], load["requests"], r["t1"] - r["t0"],
                         lat, how, load["by_version_status"]))
            if r["rc"] != 3:
                problems.append("%s: gantry exited %d, expected 3:\n    %s"
                                % (name, r["rc"], tail(r)))

        # a good release, paused for an approval-like wait, then a long bake
        if "waits" not in only:
            return finish(a, rows, waits, problems)
        bench.service("web-wait")
        print("waits: blue/green repo/web:v3, %d s paused, %d s bake ..."
              % (a.pause_seconds, a.bake_seconds), flush=True)
        r = bench.run("web-wait", [
            'stage = "ecs-rolling"; strategy = "blue_green"; bake_time = %d; '
            'pause_at = "POST_TEST_TRAFFIC_SHIFT"; image = "repo/web:v3"; '
            'timeout = 900;' % a.bake_seconds,
            'stage = "exec"; name = "approval-wait"; '
            'command = ["sleep", "%d"]; timeout = %d;'
            % (a.pause_seconds, a.pause_seconds + 60),
            'stage = "ecs-rolling"; name = "ecs-continue"; '
            'mode = "continue"; timeout = 1500;'])
        calls = log_calls(r)
        cont = [t for t, op in calls if op == "ContinueServiceDeployment"]
        paused_from = line_at(r, "approval-wait (exec)")
        paused_to = line_at(r, "ecs-continue (ecs-rolling)")
        if r["rc"] != 0 or not cont or None in (paused_from, paused_to):
            problems.append("waits: gantry exited %d, expected 0:\n    %s"
                            % (r["rc"], tail(r)))
        else:
            waits = (per_minute(calls, paused_from, paused_to),
                     per_minute(calls, cont[0], r["t1"]))
    finally:
        bench.close()
    return finish(a, rows, waits, problems)


def finish(a, rows, waits, problems):
    if rows:
        table(a, rows)
    if waits:
        print_waits(a, waits)
    for x in problems:
        print("problem: %s" % x)
    return 1 if problems else 0


def table(a, rows):
    print()
    print("Same broken image (repo/web:%s), %g requests/s on the production "
          "listener, time scale %g:" % (BAD, a.rate, a.time_scale))
    print("%-11s %4s %10s %7s %9s %8s  %s" % (
        "strategy", "exit", "bad prod", "failed", "requests", "time s",
        "smoke->rollback request"))
    for name, rc, bad, failed, n, secs, lat, how, _ in rows:
        print("%-11s %4d %10d %7d %9d %8.1f  %s" % (
            name, rc, bad, failed, n, secs,
            "%.2f s (%s)" % (lat, how) if lat is not None else how))
    print("answers per version and status:")
    for row in rows:
        print("  %-11s %s" % (row[0], "; ".join(
            "%s: %s" % (v, ", ".join("%s x %d" % kv for kv in sorted(st.items())))
            for v, st in sorted(row[8].items()))))


def print_waits(a, waits):
    (pn, ps, pm), (bn, bs, bm) = waits
    print()
    print("ECS calls by gantry while waiting (real minutes):")
    print("  paused at POST_TEST_TRAFFIC_SHIFT, exec sleeping: "
          "%d calls in %.0f s = %.1f/min" % (pn, ps, pm))
    print("  following the continue and a %d s bake (%.0f s real): "
          "%d calls in %.0f s = %.1f/min"
          % (a.bake_seconds, a.bake_seconds / a.time_scale, bn, bs, bm))


if __name__ == "__main__":
    sys.exit(main())
