"""The simulator's ECS-native strategies driven by an independent client,
the AWS CLI v1 on PATH (its botocore knows ContinueServiceDeployment and the
strategy members), with real HTTP through the sandbox's production and test
listeners while a load generator hits production throughout:

  blue/green + PAUSE at POST_TEST_TRAFFIC_SHIFT: the test listener reaches
    only the new version, production only the old; CONTINUE ends SUCCESSFUL
    with production on the new version;
  a broken release paused the same way, ROLLBACK: ROLLBACK_SUCCESSFUL, and
    no production request ever reached it;
  canary 20 %: production takes exactly 1 request in 5 to the new version
    for the canary bake, then all;
  linear 25 %: 25, 50, 75 then 100 %;
  a Lambda hook answering FAILED rolls back;
  StopServiceDeployment ROLLBACK during BAKE_TIME puts production back on
    the old version at once;
and every answer of the new operations matches botocore's output shapes.

python3 test_ecs_traffic.py (from tests/sandbox; t-ecs-strategies.sh runs
it).  Exit 0 passed, 1 failed, 77 skipped (no AWS CLI with these
operations).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import awsmodel  # noqa: E402

ACCOUNT = "111122223333"
REGION = "ap-south-1"
TG = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/web-%%s/0123456789abcdef" \
    % (REGION, ACCOUNT)
RULE = "arn:aws:elasticloadbalancing:%s:%s:listener-rule/app/web/01/23/%%s" \
    % (REGION, ACCOUNT)
ROLE = "arn:aws:iam::%s:role/ecs-blue-green" % ACCOUNT
LAMBDA = "arn:aws:lambda:%s:%s:function:smoke-hook" % (REGION, ACCOUNT)
LOAD_BALANCERS = [{
    "targetGroupArn": TG % "blue", "containerName": "app",
    "containerPort": 8080,
    "advancedConfiguration": {"alternateTargetGroupArn": TG % "green",
                              "productionListenerRule": RULE % "prod",
                              "testListenerRule": RULE % "test",
                              "roleArn": ROLE}}]

T = tempfile.mkdtemp(prefix="gantry-ecs-traffic.")
SB = os.path.join(T, "sb")
ENV = {}
try:
    MODEL = awsmodel.load("ecs")
except awsmodel.NoModel:
    MODEL = None


LOAD = [None]


class Failed(Exception):
    pass


def ok(what):
    print("ok - %s" % what, flush=True)


def check(cond, what):
    if not cond:
        raise Failed(what)


# ---- the sandbox and the CLI


def start_sandbox():
    subprocess.run([os.path.join(HERE, "sandbox"), "start", SB,
                    "--no-registry", "--parent-pid", str(os.getpid()),
                    "--max-lifetime", "600", "--time-scale", "60"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(SB, "env.sh")) as f:
        for line in f:
            line = line.strip()
            if "=" not in line or line.startswith(("#", "export", "unset")):
                continue
            k, v = line.split("=", 1)
            ENV[k] = v.strip("'")


def stop_sandbox():
    subprocess.run([os.path.join(HERE, "sandbox"), "stop", SB])
    shutil.rmtree(T, ignore_errors=True)


def leftover_tasks():
    """Pids of task processes (taskapp.py) this test's sandbox started."""
    mine = "--parent-pid\0%d\0" % os.getpid()
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid) as f:
                cmd = f.read()
        except OSError:
            continue
        if "awssim.taskapp" in cmd and mine in cmd:
            left.append(int(pid))
    return left


def cli_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": ENV["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": ENV["AWS_SECRET_ACCESS_KEY"],
                "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": os.path.join(T, "none"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(T, "none"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})
    return env


def aws(*args, fail_ok=False):
    """aws ecs ARGS...: the parsed JSON answer; with fail_ok, (None,
    stderr) on failure."""
    argv = ["aws", "--endpoint-url", ENV["AWSSIM_URL"], "--output", "json",
            "ecs"] + [a if isinstance(a, str) else json.dumps(a)
                      for a in args]
    p = subprocess.run(argv, env=cli_env(), capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        if fail_ok:
            return None, p.stderr
        raise Failed("%s failed: %s" % (" ".join(argv[5:7]), p.stderr))
    out = json.loads(p.stdout) if p.stdout.strip() else {}
    if MODEL is not None:
        op = "".join(w.capitalize() for w in args[0].split("-"))
        faults = awsmodel.check_output("ecs", op, out)
        check(not faults, "the answer of %s matches the model: %s"
              % (op, faults))
    return (out, None) if fail_ok else out


def sim(path, body=None):
    req = urllib.request.Request(ENV["AWSSIM_URL"] + "/_sim/" + path,
                                 json.dumps(body or {}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def get(listener):
    """(status, body, revision) of GET / through a listener."""
    url = "http://%s/" % ENV[listener]
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode().strip(), \
                r.headers.get("X-Sim-Revision")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode().strip(), \
            e.headers.get("X-Sim-Revision")


def versions(listener, n=20):
    return [get(listener)[1] for _ in range(n)]


class Load(threading.Thread):
    """Hits the production listener until stopped; records every answer."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen = []
        self.halt = False

    def run(self):
        while not self.halt:
            try:
                self.seen.append(get("SANDBOX_PROD_LISTENER")[:2])
            except OSError as e:
                self.seen.append((0, str(e)))
            time.sleep(0.005)

    def mark(self):
        return len(self.seen)

    def more(self, n, limit=30):
        """Waits until n more answers came in."""
        want = len(self.seen) + n
        deadline = time.monotonic() + limit
        while len(self.seen) < want and time.monotonic() < deadline:
            time.sleep(0.05)

    def since(self, mark):
        return self.seen[mark:]


# ---- deployments


def register(version):
    td = aws("register-task-definition", "--family", "web",
             "--network-mode", "awsvpc", "--requires-compatibilities",
             "FARGATE", "--cpu", "256", "--memory", "512",
             "--container-definitions",
             [{"name": "app", "image": "repo/web:%s" % version,
               "essential": True,
               "portMappings": [{"containerPort": 8080}]}])
    return td["taskDefinition"]["taskDefinitionArn"]


def update(td, config):
    out = aws("update-service", "--cluster", "default", "--service", "web",
              "--task-definition", td, "--deployment-configuration", config)
    return out["service"]["currentServiceDeployment"]


def describe(arn):
    out = aws("describe-service-deployments", "--service-deployment-arns",
              arn)
    check(out["failures"] == [], "describe %s: %s" % (arn, out["failures"]))
    return out["serviceDeployments"][0]


def wait_for(arn, pred, what, limit=90):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sd = describe(arn)
        if pred(sd):
            return sd
        if sd["status"] not in ("PENDING", "IN_PROGRESS",
                                "ROLLBACK_REQUESTED",
                                "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"):
            raise Failed("%s: the deployment ended %s (%s)"
                         % (what, sd["status"], sd.get("statusReason")))
        time.sleep(0.2)
    raise Failed("%s: not within %d s: %s" % (what, limit, sd))


def wait_end(arn, what, limit=90):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sd = describe(arn)
        if sd["status"] in ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL",
                            "ROLLBACK_FAILED"):
            return sd
        time.sleep(0.2)
    raise Failed("%s: no outcome within %d s" % (what, limit))


def awaiting(sd):
    return any(h["status"] == "AWAITING_ACTION"
               for h in sd.get("lifecycleHookDetails") or [])


def wait_listener(listener, want, limit=30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if set(versions(listener, 6)) == {want}:
            return
        time.sleep(0.1)
    raise Failed("%s never answered only %s (%s)"
                 % (listener, want, versions(listener, 6)))


def shares(seen, new, size):
    """The count of `new` answers in each window of `size` consecutive
    production answers."""
    flags = [1 if body == new else 0 for _, body in seen]
    return [sum(flags[i:i + size]) for i in range(0, len(flags) - size + 1)]


PAUSE_TEST = [{"targetType": "PAUSE",
               "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]


def main():
    if shutil.which("aws") is None:
        print("SKIP: no aws on PATH")
        return 77
    p = subprocess.run(["aws", "ecs", "continue-service-deployment",
                        "--generate-cli-skeleton"], capture_output=True,
                       text=True, env=dict(os.environ, AWS_PAGER=""))
    if p.returncode != 0 or "hookId" not in p.stdout:
        print("SKIP: the aws on PATH does not know ContinueServiceDeployment "
              "(an AWS CLI v1 with botocore >= 1.43 does)")
        return 77
    start_sandbox()
    ok("sandbox up, listeners %s (production) and %s (test)"
       % (ENV["SANDBOX_PROD_LISTENER"], ENV["SANDBOX_TEST_LISTENER"]))
    tds = {v: register(v) for v in ("v1", "v2", "v3-bad", "v4", "v5", "v6")}

    _, err = aws("create-service", "--service-name", "plain",
                 "--task-definition", tds["v1"], "--desired-count", "1",
                 "--deployment-configuration",
                 {"strategy": "CANARY"}, fail_ok=True)
    check(err and "InvalidParameterException" in err and
          "advancedConfiguration" in err,
          "CANARY without advancedConfiguration is refused: %s" % err)
    ok("a non-rolling strategy without advancedConfiguration: "
       "InvalidParameterException")

    aws("create-service", "--service-name", "web", "--task-definition",
        tds["v1"], "--desired-count", "2", "--launch-type", "FARGATE",
        "--load-balancers", LOAD_BALANCERS, "--deployment-configuration",
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    wait_listener("SANDBOX_PROD_LISTENER", "v1")
    ok("blue/green service created; production answers v1")
    load = LOAD[0] = Load()
    load.start()

    # 1. pause at POST_TEST_TRAFFIC_SHIFT, then CONTINUE
    arn = update(tds["v2"], {"strategy": "BLUE_GREEN",
                             "bakeTimeInMinutes": 1,
                             "lifecycleHooks": PAUSE_TEST})
    sd = wait_for(arn, awaiting, "pause at POST_TEST_TRAFFIC_SHIFT")
    check(sd["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT",
          "paused in %s" % sd["lifecycleStage"])
    hook = sd["lifecycleHookDetails"][0]
    check(hook["targetType"] == "PAUSE", "a PAUSE hook: %s" % hook)
    test = versions("SANDBOX_TEST_LISTENER")
    prod = versions("SANDBOX_PROD_LISTENER")
    check(set(test) == {"v2"}, "test listener reaches only v2: %s" % test)
    check(set(prod) == {"v1"}, "production reaches only v1: %s" % prod)
    ok("paused at POST_TEST_TRAFFIC_SHIFT: test listener -> v2 only, "
       "production -> v1 only")
    out = aws("continue-service-deployment", "--service-deployment-arn", arn,
              "--hook-id", hook["hookId"], "--action", "CONTINUE")
    check(out == {"serviceDeploymentArn": arn}, "continue answers %s" % out)
    sd = wait_end(arn, "blue/green after CONTINUE")
    check(sd["status"] == "SUCCESSFUL", "CONTINUE ends %s" % sd["status"])
    wait_listener("SANDBOX_PROD_LISTENER", "v2", 5)
    ok("CONTINUE: SUCCESSFUL, production on v2")
    _, err = aws("continue-service-deployment", "--service-deployment-arn",
                 arn, "--hook-id", hook["hookId"], fail_ok=True)
    check(err and "InvalidParameterException" in err,
          "continuing a finished deployment is refused: %s" % err)
    ok("ContinueServiceDeployment on a finished deployment: "
       "InvalidParameterException")

    # 2. a broken release, paused the same way, then ROLLBACK
    mark = load.mark()
    arn = update(tds["v3-bad"], {"strategy": "BLUE_GREEN",
                                 "bakeTimeInMinutes": 1,
                                 "lifecycleHooks": PAUSE_TEST})
    sd = wait_for(arn, awaiting, "pause of the broken release")
    status, body, _ = get("SANDBOX_TEST_LISTENER")
    check((status, body) == (500, "v3-bad broken"),
          "the test listener shows the broken release: %s %s"
          % (status, body))
    aws("continue-service-deployment", "--service-deployment-arn", arn,
        "--hook-id", sd["lifecycleHookDetails"][0]["hookId"],
        "--action", "ROLLBACK")
    sd = wait_end(arn, "rollback of the broken release")
    check(sd["status"] == "ROLLBACK_SUCCESSFUL",
          "ROLLBACK ends %s" % sd["status"])
    check(sd["rollback"]["serviceRevisionArn"] ==
          sd["sourceServiceRevisions"][0]["arn"],
          "rolled back to the source revision: %s" % sd["rollback"])
    wait_listener("SANDBOX_TEST_LISTENER", "v2", 5)
    seen = load.since(mark)
    bad = [x for x in seen if "v3-bad" in x[1]]
    check(len(seen) > 20 and not bad,
          "production never reached v3-bad (%d requests, %d bad)"
          % (len(seen), len(bad)))
    ok("ROLLBACK: ROLLBACK_SUCCESSFUL; %d production requests meanwhile, "
       "none reached the broken release" % len(seen))

    # 3. canary 20 %
    mark = load.mark()
    arn = update(tds["v4"], {"strategy": "CANARY",
                             "bakeTimeInMinutes": 0, "lifecycleHooks": [],
                             "canaryConfiguration": {
                                 "canaryPercent": 20.0,
                                 "canaryBakeTimeInMinutes": 4}})
    sd = wait_end(arn, "canary")
    check(sd["status"] == "SUCCESSFUL", "canary ends %s" % sd["status"])
    wait_listener("SANDBOX_PROD_LISTENER", "v4", 5)
    load.more(100)
    counts = shares(load.since(mark), "v4", 50)
    check(10 in counts and 50 in counts and
          counts.index(10) < counts.index(50),
          "production took exactly 10 in 50 requests to v4, then all: %s"
          % sorted(set(counts)))
    ok("canary: production 20 %% on v4 (%d windows of 50 with exactly 10), "
       "then 100 %%" % counts.count(10))

    # 4. linear 25 %
    mark = load.mark()
    arn = update(tds["v5"], {"strategy": "LINEAR",
                             "bakeTimeInMinutes": 0,
                             "linearConfiguration": {
                                 "stepPercent": 25.0,
                                 "stepBakeTimeInMinutes": 2}})
    sd = wait_end(arn, "linear")
    check(sd["status"] == "SUCCESSFUL", "linear ends %s" % sd["status"])
    load.more(100)
    counts = shares(load.since(mark), "v5", 20)
    steps = [c for c in (5, 10, 15, 20) if c in counts]
    check(steps == [5, 10, 15, 20] and
          all(a <= b for a, b in zip(counts, counts[1:])),
          "production went 25, 50, 75, 100 %% to v5: %s"
          % sorted(set(counts)))
    ok("linear: production 25, 50, 75, then 100 % on v5")

    # 5. a Lambda hook answering FAILED
    sim("ecs/lambda-hook", {"function": "smoke-hook",
                            "hookStatus": "FAILED"})
    mark = load.mark()
    arn = update(tds["v6"], {"strategy": "BLUE_GREEN",
                             "bakeTimeInMinutes": 1,
                             "lifecycleHooks": [{
                                 "targetType": "AWS_LAMBDA",
                                 "hookTargetArn": LAMBDA, "roleArn": ROLE,
                                 "lifecycleStages": [
                                     "POST_TEST_TRAFFIC_SHIFT"]}]})
    sd = wait_end(arn, "Lambda hook FAILED")
    check(sd["status"] == "ROLLBACK_SUCCESSFUL",
          "a FAILED Lambda answer ends %s" % sd["status"])
    hook = sd["lifecycleHookDetails"][0]
    check((hook["targetType"], hook.get("targetArn"), hook["status"]) ==
          ("AWS_LAMBDA", LAMBDA, "FAILED"), "the hook: %s" % hook)
    inv = sim("ecs/lambda-invocations")["invocations"]
    check(len(inv) == 1, "one invocation: %s" % inv)
    check(not [x for x in load.since(mark) if x[1] == "v6"],
          "production never reached v6")
    ok("Lambda hook answering FAILED: ROLLBACK_SUCCESSFUL, production "
       "stayed on v5")

    # 6. StopServiceDeployment ROLLBACK during BAKE_TIME
    arn = update(tds["v6"], {"strategy": "BLUE_GREEN",
                             "bakeTimeInMinutes": 30, "lifecycleHooks": []})
    sd = wait_for(arn, lambda sd: sd.get("lifecycleStage") == "BAKE_TIME",
                  "BAKE_TIME")
    wait_listener("SANDBOX_PROD_LISTENER", "v6", 5)
    aws("stop-service-deployment", "--service-deployment-arn", arn,
        "--stop-type", "ROLLBACK")
    prod = versions("SANDBOX_PROD_LISTENER")
    check(set(prod) == {"v5"}, "production back on v5 at once: %s" % prod)
    sd = wait_end(arn, "stop in BAKE_TIME")
    check(sd["status"] == "ROLLBACK_SUCCESSFUL",
          "stop in BAKE_TIME ends %s" % sd["status"])
    ok("StopServiceDeployment ROLLBACK in BAKE_TIME: production back on "
       "v5 at once, ROLLBACK_SUCCESSFUL")

    load.halt = True
    load.join(15)
    errors = [x for x in load.seen if x[0] != 200]
    check(not errors, "no failed production request: %s" % errors[:5])
    ok("%d production requests, none failed" % len(load.seen))
    listed = aws("list-service-deployments", "--service", "web")
    check(len(listed["serviceDeployments"]) == 7,
          "7 service deployments listed (create + 6 updates): %d"
          % len(listed["serviceDeployments"]))

    # 7. /_sim/traffic/broken: an image named there runs broken tasks
    try:
        sim("traffic/broken", {"image": ""})
        raise Failed("traffic/broken without an image was accepted")
    except urllib.error.HTTPError as e:
        msg = e.read().decode()
        check(e.code == 400 and "broken needs image" in msg,
              "traffic/broken without an image: %d %s" % (e.code, msg))
    check(sim("traffic/broken", {"image": "web:v7"}) ==
          {"broken": ["web:v7"]}, "traffic/broken lists what it breaks")
    td7 = register("v7")
    arn = update(td7, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                       "lifecycleHooks": PAUSE_TEST})
    sd = wait_for(arn, awaiting, "pause of v7")
    status, body, _ = get("SANDBOX_TEST_LISTENER")
    check((status, body) == (500, "v7 broken"),
          "v7, named by traffic/broken, answers %s %s" % (status, body))
    aws("continue-service-deployment", "--service-deployment-arn", arn,
        "--hook-id", sd["lifecycleHookDetails"][0]["hookId"],
        "--action", "ROLLBACK")
    check(wait_end(arn, "rollback of v7")["status"] == "ROLLBACK_SUCCESSFUL",
          "v7 rolled back")
    ok("/_sim/traffic/broken: tasks of the image named answer 500; "
       "no image: 400")
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    except Failed as e:
        print("FAIL: %s" % e, flush=True)
        log = os.path.join(SB, "awssim.log")
        if os.path.exists(log):
            with open(log) as f:
                print("--- awssim.log (tail):\n" + "".join(f.readlines()[-15:]))
        rc = 1
    finally:
        if LOAD[0] is not None:
            LOAD[0].halt = True
            LOAD[0].join(15)
        stop_sandbox()
    if rc == 0:
        time.sleep(1)
        left = leftover_tasks()
        if left:
            print("FAIL: task processes outlived the sandbox: %s" % left)
            rc = 1
        else:
            print("ok - no task process outlived the sandbox")
    sys.exit(rc)
