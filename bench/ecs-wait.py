#!/usr/bin/python3
"""ecs-wait.py - how fast and how right gantry's ecs-rolling stage tells that a
rolling deployment finished, against `aws ecs wait services-stable`.

Run by hand from a build directory (the Debian AWS CLI must be installed:
/usr/bin/aws and its bundled botocore, hence /usr/bin/python3):

    /usr/bin/python3 SRC/bench/ecs-wait.py --build BUILD [--time-scale 6]

It starts the sandbox (tests/sandbox/sandbox, simulator only) with a time
scale (default 6: a simulated minute lasts 10 s, so a healthy rollout with
the default 60 s grace period takes ~12 s of real time and both tools poll
as they would against AWS), creates one ECS service per run with the AWS
CLI's botocore, and measures for each scenario and tool:

  - detection delay: real time from the moment the simulator marked the
    deployment COMPLETED (its "deployment completed" event, mapped from the
    simulated clock to the real one) to the tool reporting it done;
  - API calls the tool made (the simulator's call record);
  - CPU time (user + system) of the tool's processes;
  - the verdict: gantry's exit code, the waiter's exit code.

Scenarios: `healthy` (a new image that starts and passes health checks)
and `crash-loop` (a new image whose tasks exit 1; the circuit breaker fails
the deployment and ECS rolls back to the previous task definition).  The
AWS waiter is given the same UpdateService gantry would make.  The point of
the second row: the waiter returns success after the ECS rollback (the
service is stable again, on the OLD task definition) while gantry reports
"rolled back by ECS" with exit code 3.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import awscli.botocore.session as bs
except ImportError:
    sys.exit("ecs-wait.py: run with /usr/bin/python3 (needs the Debian "
             "awscli package's botocore)")

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "127214192604"


def control(url, path, body=None):
    req = urllib.request.Request(url + "/_sim/" + path,
                                 data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


class Bench:
    def __init__(self, build, scale):
        self.build = os.path.abspath(build)
        self.scale = scale
        self.dir = tempfile.mkdtemp(prefix="gantry-bench-ecs.")
        sb = os.path.join(self.dir, "sb")
        subprocess.run([os.path.join(SRC, "tests/sandbox/sandbox"), "start",
                        sb, "--no-registry", "--time-scale", str(scale),
                        "--parent-pid", str(os.getpid()),
                        "--max-lifetime", "900"], check=True,
                       stdout=subprocess.DEVNULL)
        self.env = dict(os.environ)
        out = subprocess.run(["bash", "-c", ". %s/env.sh && env" % sb],
                             capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            k, _, v = line.partition("=")
            if k.startswith(("AWS", "SANDBOX", "GANTRY_SANDBOX")):
                self.env[k] = v
        self.env["AWS_ACCESS_KEY_ID"] = self.env["SANDBOX_STAGING_KEY_ID"]
        self.env["AWS_SECRET_ACCESS_KEY"] = self.env["SANDBOX_STAGING_SECRET"]
        self.url = self.env["AWSSIM_URL"]
        self.ecs = bs.get_session().create_client(
            "ecs", region_name="ap-south-1", endpoint_url=self.url,
            aws_access_key_id=self.env["SANDBOX_STAGING_KEY_ID"],
            aws_secret_access_key=self.env["SANDBOX_STAGING_SECRET"])
        self.plugins = os.path.join(self.dir, "plugins")
        os.mkdir(self.plugins, 0o755)
        for so in ("plugins/.libs/ecs-rolling.so",
                   "tests/fixtures/pipeline/.libs/tfix.so"):
            dst = os.path.join(self.plugins, os.path.basename(so))
            shutil.copy(os.path.join(self.build, so), dst)
            os.chmod(dst, 0o644)

    def close(self):
        subprocess.run([os.path.join(SRC, "tests/sandbox/sandbox"), "stop",
                        os.path.join(self.dir, "sb")])
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- ECS set-up
    def register(self, name, image):
        return self.ecs.register_task_definition(family=name,
            containerDefinitions=[{
                "name": "app", "image": image, "memory": 128,
                "portMappings": [{"containerPort": 8080}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/ecs/" + name,
                    "awslogs-stream-prefix": "ecs"}}}]
        )["taskDefinition"]["taskDefinitionArn"]

    def create(self, name):
        self.ecs.create_cluster(clusterName="bench")
        td = self.register(name, "repo/%s:v1" % name)
        self.ecs.create_service(cluster="bench", serviceName=name,
            taskDefinition=td, desiredCount=2,
            healthCheckGracePeriodSeconds=60,
            loadBalancers=[{"targetGroupArn": "arn:aws:elasticloadbalancing:"
                            "ap-south-1:%s:targetgroup/%s/0a" % (ACCOUNT, name),
                            "containerName": "app", "containerPort": 8080}],
            deploymentConfiguration={"deploymentCircuitBreaker":
                                     {"enable": True, "rollback": True}})
        control(self.url, "ecs/advance", {"seconds": 600})
        svc = self.describe(name)
        assert len(svc["deployments"]) == 1, "service did not settle"
        return td

    def describe(self, name):
        return self.ecs.describe_services(cluster="bench",
                                          services=[name])["services"][0]

    def completed_real(self, name):
        """The real time of the newest 'deployment completed' event."""
        svc = self.describe(name)
        now = control(self.url, "now")["now"]
        real_now = time.time()
        for ev in svc["events"]:
            if "deployment completed" in ev["message"]:
                sim_t = ev["createdAt"]
                if hasattr(sim_t, "timestamp"):
                    sim_t = sim_t.timestamp()
                return real_now - (now - sim_t) / self.scale
        return None

    def ncalls(self):
        return len(control(self.url, "calls")["calls"])

    def calls_since(self, n):
        return len(control(self.url, "calls")["calls"]) - n

    # -- the tools
    def gantry(self, name, image):
        cfg = os.path.join(self.dir, name)
        os.makedirs(os.path.join(cfg, "profiles"))
        with open(os.path.join(cfg, "gantry.cfg"), "w") as f:
            f.write('service = "%s";\nenvironments = ( { name = "staging"; '
                    'tags = "v*"; profile = "profiles/staging.cfg"; } );\n'
                    'pipeline = (\n  { stage = "tfix"; name = "build"; '
                    'outputs = ["image.uri=%s"]; },\n  { stage = '
                    '"ecs-rolling"; timeout = 600; }\n);\n' % (name, image))
        with open(os.path.join(cfg, "profiles/staging.cfg"), "w") as f:
            f.write('aws = { region = "ap-south-1"; account_id = "%s"; '
                    'endpoint_url = "%s"; };\nstages = { ecs-rolling = { '
                    'cluster = "bench"; service = "%s"; }; };\n'
                    % (ACCOUNT, self.url, name))
        env = dict(self.env, GANTRY_PLUGIN_PATH=self.plugins,
                   GANTRY_STATE_DIR=os.path.join(cfg, "state"))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        n0 = self.ncalls()
        p = subprocess.Popen([os.path.join(self.build, "gantry"), "deploy",
                              "v1.0.0"], cwd=cfg, env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        done_at = None
        last = ""
        for line in p.stderr:
            if " completed in " in line or "rolled back by ECS" in line:
                done_at = time.time()
            if "gantry: error" in line:
                last = line.strip()
        rc = p.wait()
        done_at = done_at or time.time()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime +
               after.ru_stime - before.ru_stime)
        return rc, done_at, self.calls_since(n0), cpu, last

    def waiter(self, name, image):
        td = self.register(name, image)
        self.ecs.update_service(cluster="bench", service=name,
                                taskDefinition=td)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        n0 = self.ncalls()
        rc = subprocess.run(["/usr/bin/aws", "ecs", "wait",
                             "services-stable", "--cluster", "bench",
                             "--services", name, "--endpoint-url", self.url,
                             "--region", "ap-south-1"], env=self.env,
                            capture_output=True).returncode
        done_at = time.time()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime +
               after.ru_stime - before.ru_stime)
        return rc, done_at, self.calls_since(n0), cpu, td


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=".", help="the build directory")
    ap.add_argument("--time-scale", type=float, default=6)
    a = ap.parse_args()
    b = Bench(a.build, a.time_scale)
    rows = []
    try:
        control(b.url, "ecs/scenario", {"image": ":crash",
                                        "scenario": "crash-loop"})
        for scen, image in (("healthy", "v2"), ("crash-loop", "crash")):
            for tool in ("gantry", "aws-waiter"):
                name = "%s-%s" % (tool.split("-")[0], scen.split("-")[0])
                old = b.create(name)
                uri = "repo/%s:%s" % (name, image)
                if tool == "gantry":
                    rc, done, n, cpu, msg = b.gantry(name, uri)
                else:
                    rc, done, n, cpu, _ = b.waiter(name, uri)
                    msg = ""
                comp = b.completed_real(name)
                final = b.describe(name)["deployments"][0]["taskDefinition"]
                on = "new" if final != old else "old (rolled back)"
                verdict = {0: "success", 3: "FAILED: rolled back by ECS"
                           }.get(rc, "exit %d" % rc)
                rows.append((scen, tool, rc, verdict, on,
                             done - comp if comp else float("nan"), n, cpu))
                if msg:
                    print("gantry said: " + msg[:300] + "...",
                          file=sys.stderr)
    finally:
        b.close()
    print("time scale %g (1 simulated minute = %.1f s)\n" %
          (a.time_scale, 60 / a.time_scale))
    head = ("scenario", "tool", "exit", "verdict", "service ends on",
            "delay s", "API calls", "CPU s")
    fmt = "%-10s  %-10s  %4s  %-27s  %-17s  %7s  %9s  %6s"
    print(fmt % head)
    for r in rows:
        print(fmt % (r[0], r[1], r[2], r[3], r[4], "%.2f" % r[5], r[6],
                     "%.2f" % r[7]))


if __name__ == "__main__":
    main()
