"""Unit test of the ECS model of the sandbox simulator (awssim/ecs.py).

Runs without a server: a fake sim supplies the clock (advanced by hand), the
log sink and alarm states.  python3 -m unittest tests/sandbox/test_ecs_model.py
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awssim import ecs  # noqa: E402

ACCOUNT = "127214192604"
REGION = "ap-south-1"


class FakeLogs:
    def __init__(self):
        self.events = []

    def append(self, account, region, group, stream, message, ts_ms):
        self.events.append((account, region, group, stream, message, ts_ms))


class FakeSim:
    def __init__(self):
        self.t = 1700000000.0
        self.logs = FakeLogs()
        self.alarms = {}

    def now(self):
        return self.t

    def advance(self, seconds):
        self.t += seconds

    def alarm_state(self, account, region, name):
        return self.alarms.get((account, region, name), "OK")


class Req:
    def __init__(self, sim):
        self.account = ACCOUNT
        self.region = REGION
        self.sim = sim


def code_of(err):
    return getattr(err, "code", err.args[0])


class EcsCase(unittest.TestCase):
    def setUp(self):
        self.sim = FakeSim()
        self.ecs = ecs.Service(self.sim)
        self.req = Req(self.sim)

    # ---- helpers

    def call(self, op, **params):
        return self.ecs.call(op, params, self.req)

    def register(self, image, family="web"):
        out = self.call("RegisterTaskDefinition", family=family,
                        containerDefinitions=[{
                            "name": "app", "image": image, "essential": True,
                            "portMappings": [{"containerPort": 8080}]}],
                        networkMode="awsvpc", cpu="256", memory="512",
                        requiresCompatibilities=["FARGATE"])
        return out["taskDefinition"]["taskDefinitionArn"]

    def scenario(self, scenario, service="web", **extra):
        body = {"account": ACCOUNT, "region": REGION, "cluster": "default",
                "service": service, "scenario": scenario}
        body.update(extra)
        return self.ecs.control("scenario", body)

    def describe(self, name="web"):
        out = self.call("DescribeServices", services=[name])
        self.assertEqual(out["failures"], [])
        return out["services"][0]

    def model(self, name="web", cluster="default"):
        rs = self.ecs.regions[(ACCOUNT, REGION)]
        return rs.clusters[cluster].services[name]

    def live_counts(self, name="web"):
        svc = self.model(name)
        live = [x for x in svc.tasks if x.live]
        return len(live), sum(1 for x in live if x.healthy)

    def run_until(self, pred, limit, check=None, name="web"):
        """Advance 1 s at a time (a DescribeServices per step) until
        pred(service) holds; returns the seconds it took or None."""
        for i in range(limit):
            self.sim.t += 1
            svc = self.describe(name)
            if check:
                check(svc)
            if pred(svc):
                return i + 1
        return None

    def create(self, td, desired=2, name="web", **extra):
        params = dict(serviceName=name, taskDefinition=td,
                      desiredCount=desired, launchType="FARGATE")
        params.update(extra)
        return self.call("CreateService", **params)["service"]

    @staticmethod
    def completed(svc):
        deps = svc["deployments"]
        return (len(deps) == 1 and deps[0]["rolloutState"] == "COMPLETED"
                and deps[0]["runningCount"] == svc["desiredCount"])

    def create_steady(self, td, desired=2, name="web", **extra):
        self.create(td, desired, name, **extra)
        self.assertIsNotNone(self.run_until(self.completed, 300, name=name))
        return self.describe(name)

    def messages(self, name="web"):
        return [e["message"] for e in self.describe(name)["events"]]

    def sd_of(self, arn):
        out = self.call("DescribeServiceDeployments",
                        serviceDeploymentArns=[arn])
        self.assertEqual(out["failures"], [])
        return out["serviceDeployments"][0]

    def latest_sd(self, name="web"):
        out = self.call("ListServiceDeployments", service=name)
        return out["serviceDeployments"][0]


class TaskDefinitions(EcsCase):
    def test_revisions_describe_deregister(self):
        a1 = self.register("repo/web:1")
        a2 = self.register("repo/web:2")
        self.assertEqual(a1, "arn:aws:ecs:%s:%s:task-definition/web:1" %
                         (REGION, ACCOUNT))
        self.assertTrue(a2.endswith("task-definition/web:2"))
        td = self.call("DescribeTaskDefinition",
                       taskDefinition="web")["taskDefinition"]
        self.assertEqual(td["revision"], 2)
        self.assertEqual(td["status"], "ACTIVE")
        self.assertIsInstance(td["registeredAt"], float)
        self.assertEqual(td["containerDefinitions"][0]["image"], "repo/web:2")
        self.assertIn("FARGATE", td["compatibilities"])
        td1 = self.call("DescribeTaskDefinition",
                        taskDefinition="web:1")["taskDefinition"]
        self.assertEqual(td1["taskDefinitionArn"], a1)
        by_arn = self.call("DescribeTaskDefinition",
                           taskDefinition=a2)["taskDefinition"]
        self.assertEqual(by_arn["revision"], 2)
        out = self.call("DeregisterTaskDefinition", taskDefinition="web:2")
        self.assertEqual(out["taskDefinition"]["status"], "INACTIVE")
        td = self.call("DescribeTaskDefinition",
                       taskDefinition="web")["taskDefinition"]
        self.assertEqual(td["revision"], 1)
        self.assertEqual(self.call("DescribeTaskDefinition",
                                   taskDefinition="web:2")
                         ["taskDefinition"]["status"], "INACTIVE")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("DescribeTaskDefinition", taskDefinition="nope")
        self.assertEqual(code_of(cm.exception), "ClientException")
        self.assertEqual(self.register("repo/web:3").split(":")[-1], "3")


class TaskDefinitionTags(EcsCase):
    """Tags live beside the task definition, as in the real API: returned
    only with include TAGS, as a top-level "tags" next to
    "taskDefinition"."""

    TAGS = [{"key": "cost-center", "value": "cc-4711"},
            {"key": "team", "value": "payments"}]

    def test_include_tags(self):
        out = self.call("RegisterTaskDefinition", family="web",
                        containerDefinitions=[{"name": "app",
                                               "image": "repo/web:1"}],
                        tags=self.TAGS)
        self.assertEqual(out["tags"], self.TAGS)
        arn = out["taskDefinition"]["taskDefinitionArn"]
        self.assertNotIn("tags", out["taskDefinition"])
        plain = self.call("DescribeTaskDefinition", taskDefinition="web")
        self.assertEqual(set(plain), {"taskDefinition"})
        tagged = self.call("DescribeTaskDefinition", taskDefinition="web",
                           include=["TAGS"])
        self.assertEqual(set(tagged), {"taskDefinition", "tags"})
        self.assertEqual(tagged["tags"], self.TAGS)
        self.assertNotIn("tags", tagged["taskDefinition"])
        self.assertEqual(self.call("ListTagsForResource", resourceArn=arn),
                         {"tags": self.TAGS})
        self.register("repo/web:2")
        self.assertEqual(self.call("DescribeTaskDefinition",
                                   taskDefinition="web", include=["TAGS"])
                         ["tags"], [])
        with self.assertRaises(ecs.AwsError):
            self.call("RegisterTaskDefinition", family="web",
                      containerDefinitions=[{"name": "a", "image": "b"}],
                      tags=[{"key": "", "value": "x"}])

    def test_tag_on_create_denied(self):
        self.ecs.control("deny-tag-on-create", {"account": ACCOUNT})
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("RegisterTaskDefinition", family="web",
                      containerDefinitions=[{"name": "a", "image": "b"}],
                      tags=self.TAGS)
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")
        self.assertIn("not authorized to perform: ecs:TagResource",
                      cm.exception.message)
        self.register("repo/web:1")         # untagged: allowed
        self.ecs.control("deny-tag-on-create", {"account": ACCOUNT,
                                                "enabled": False})
        self.call("RegisterTaskDefinition", family="web",
                  containerDefinitions=[{"name": "a", "image": "b"}],
                  tags=self.TAGS)

    def test_registered_members_come_back(self):
        params = dict(family="web", networkMode="awsvpc", cpu="256",
                      memory="512", requiresCompatibilities=["FARGATE"],
                      containerDefinitions=[{"name": "app", "image": "x"}],
                      proxyConfiguration={"type": "APPMESH",
                                          "containerName": "envoy"},
                      inferenceAccelerators=[{"deviceName": "d",
                                              "deviceType": "eia2.medium"}],
                      enableFaultInjection=True,
                      deleteRequestedAt=1700000000.0)
        td = self.call("RegisterTaskDefinition", **params)["taskDefinition"]
        for key in ("proxyConfiguration", "inferenceAccelerators",
                    "enableFaultInjection"):
            self.assertEqual(td[key], params[key])
        # not a request member: not stored, never returned
        self.assertNotIn("deleteRequestedAt", td)

    def test_seed_from_text(self):
        import json
        doc = {"taskDefinition": {"family": "x", "containerDefinitions": [
            {"name": "app", "image": "repo/web:1"}]}, "tags": self.TAGS}
        out = self.ecs.control("task-definition", {
            "account": ACCOUNT, "region": REGION, "family": "seeded",
            "text": json.dumps(doc),
            "extra": {"deleteRequestedAt": 1700000000.0}})
        self.assertEqual(out["tags"], self.TAGS)
        td = self.call("DescribeTaskDefinition", taskDefinition="seeded:1",
                       include=["TAGS"])
        self.assertEqual(td["tags"], self.TAGS)
        self.assertEqual(td["taskDefinition"]["deleteRequestedAt"],
                         1700000000.0)
        with self.assertRaises(ecs.AwsError) as cm:
            self.ecs.control("task-definition", {
                "account": ACCOUNT, "region": REGION, "name": "bad.json",
                "text": '{"family": "x"\n "containerDefinitions": []}'})
        self.assertEqual(code_of(cm.exception), "InvalidParameterException")
        self.assertRegex(cm.exception.message, r"^task definition bad\.json "
                         r"is not valid JSON: Expecting ',' delimiter: "
                         r"line 2 column 2 .*; fix the file$")


class Errors(EcsCase):
    def test_not_found_and_unknown_operation(self):
        td = self.register("repo/web:1")
        self.create(td)
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("UpdateService", service="nope", desiredCount=1)
        self.assertEqual(code_of(cm.exception), "ServiceNotFoundException")
        self.assertEqual(cm.exception.message, "Service not found.")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("UpdateService", cluster="nope", service="web")
        self.assertEqual(code_of(cm.exception), "ClusterNotFoundException")
        self.assertEqual(cm.exception.message, "Cluster not found.")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("DescribeServices", cluster="nope", services=["web"])
        self.assertEqual(code_of(cm.exception), "ClusterNotFoundException")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("UpdateService", service="web",
                      taskDefinition="ghost:7")
        self.assertEqual(code_of(cm.exception), "ClientException")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("CreateService", serviceName="web", taskDefinition=td,
                      desiredCount=1)
        self.assertEqual(code_of(cm.exception), "InvalidParameterException")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("FrobnicateService")
        self.assertEqual(code_of(cm.exception), "UnknownOperationException")
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("StopServiceDeployment", serviceDeploymentArn="arn:x")
        self.assertEqual(code_of(cm.exception),
                         "ServiceDeploymentNotFoundException")
        with self.assertRaises(ecs.AwsError):
            self.scenario("on-fire")


class Shapes(EcsCase):
    def test_describe_services_shapes(self):
        td = self.register("repo/web:1")
        created = self.create(td, desired=2, healthCheckGracePeriodSeconds=30)
        self.assertEqual(created["serviceArn"],
                         "arn:aws:ecs:%s:%s:service/default/web" %
                         (REGION, ACCOUNT))
        self.assertEqual(created["deploymentConfiguration"], {
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            "maximumPercent": 200, "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": [], "enable": False,
                       "rollback": False}})
        dep = created["deployments"][0]
        self.assertRegex(dep["id"], r"^ecs-svc/[1-9][0-9]{18}$")
        self.assertEqual(dep["status"], "PRIMARY")
        self.assertEqual(dep["rolloutState"], "IN_PROGRESS")
        self.assertEqual(dep["taskDefinition"], td)
        for key in ("desiredCount", "pendingCount", "runningCount",
                    "failedTasks"):
            self.assertIsInstance(dep[key], int)
        self.assertIsInstance(dep["createdAt"], float)
        self.assertIsInstance(dep["updatedAt"], float)

        self.sim.t += 3
        svc = self.describe()
        self.assertEqual(svc["pendingCount"], 2)
        started = svc["events"][0]
        self.assertRegex(started["message"],
                         r"^\(service web\) has started 2 tasks: "
                         r"\(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$")
        self.assertRegex(started["id"], r"^[0-9a-f-]{36}$")
        self.assertIsInstance(started["createdAt"], float)

        out = self.call("DescribeServices", services=["web", "gone"])
        self.assertEqual(out["failures"], [{
            "arn": "arn:aws:ecs:%s:%s:service/default/gone" %
                   (REGION, ACCOUNT), "reason": "MISSING"}])

        arns = self.call("ListTasks", serviceName="web")["taskArns"]
        self.assertEqual(len(arns), 2)
        for arn in arns:
            self.assertRegex(arn, r"^arn:aws:ecs:%s:%s:task/default/"
                             r"[0-9a-f]{32}$" % (REGION, ACCOUNT))
        self.assertIsNotNone(self.run_until(self.completed, 100))
        tasks = self.call("DescribeTasks", tasks=arns)["tasks"]
        for task in tasks:
            self.assertEqual(task["lastStatus"], "RUNNING")
            self.assertEqual(task["desiredStatus"], "RUNNING")
            self.assertEqual(task["healthStatus"], "HEALTHY")
            self.assertEqual(task["startedBy"], dep["id"])
            self.assertEqual(task["taskDefinitionArn"], td)
            self.assertEqual(task["group"], "service:web")
            self.assertIsInstance(task["startedAt"], float)
            self.assertEqual(task["containers"][0]["name"], "app")
        out = self.call("DescribeTasks", tasks=["0" * 32])
        self.assertEqual(out["failures"][0]["reason"], "MISSING")

        svc = self.describe()
        msgs = [e["message"] for e in svc["events"]]
        self.assertEqual(msgs[0], "(service web) has reached a steady state.")
        self.assertEqual(msgs[1], "(service web) (deployment %s) deployment "
                         "completed." % dep["id"])
        self.assertEqual(svc["deployments"][0]["rolloutStateReason"],
                         "ECS deployment %s completed." % dep["id"])
        times = [e["createdAt"] for e in svc["events"]]
        self.assertEqual(times, sorted(times, reverse=True))

        sd = self.latest_sd()
        self.assertRegex(sd["serviceDeploymentArn"],
                         r"^arn:aws:ecs:%s:%s:service-deployment/default/web/"
                         r"[A-Za-z0-9-]+$" % (REGION, ACCOUNT))
        self.assertEqual(sd["status"], "SUCCESSFUL")
        self.assertRegex(sd["targetServiceRevisionArn"],
                         r"service-revision/default/web/[0-9]{19}$")
        self.assertIsInstance(sd["finishedAt"], float)


class Rolling(EcsCase):
    def test_healthy_rollout_100_200(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=4, healthCheckGracePeriodSeconds=20)
        out = self.call("UpdateService", service="web", taskDefinition=td2)
        new_id = out["service"]["deployments"][0]["id"]
        self.assertEqual(out["service"]["deployments"][1]["status"],
                         "ACTIVE")
        seen = {"max": 0}

        def check(svc):
            live, healthy = self.live_counts()
            self.assertLessEqual(live, 8)
            self.assertGreaterEqual(healthy, 4)
            self.assertGreaterEqual(svc["runningCount"], 4)
            seen["max"] = max(seen["max"], live)

        self.sim.t += 25        # started at 10 s, grace 20 s: not yet
        self.describe()
        self.assertEqual(self.live_counts(), (8, 4))
        took = self.run_until(self.completed, 300, check)
        self.assertIsNotNone(took)
        self.assertGreaterEqual(took, 4)
        self.assertEqual(seen["max"], 8)   # all new started before any stop
        svc = self.describe()
        self.assertEqual(len(svc["deployments"]), 1)
        dep = svc["deployments"][0]
        self.assertEqual(dep["id"], new_id)
        self.assertEqual(dep["taskDefinition"], td2)
        self.assertEqual(svc["taskDefinition"], td2)
        self.assertEqual(dep["runningCount"], 4)
        self.assertEqual(svc["runningCount"], 4)
        self.assertEqual(dep["failedTasks"], 0)
        msgs = self.messages()
        self.assertIn("(service web) (deployment %s) deployment completed."
                      % new_id, msgs)
        self.assertTrue(any(re.match(r"\(service web\) has stopped 4 running"
                                     r" tasks: ", m) for m in msgs))
        sds = self.call("ListServiceDeployments",
                        service="web")["serviceDeployments"]
        self.assertEqual([x["status"] for x in sds],
                         ["SUCCESSFUL", "SUCCESSFUL"])
        stopped = self.call("ListTasks", serviceName="web",
                            desiredStatus="STOPPED")["taskArns"]
        self.assertEqual(len(stopped), 4)
        self.sim.t += 10
        task = self.call("DescribeTasks", tasks=stopped[:1])["tasks"][0]
        self.assertEqual(task["lastStatus"], "STOPPED")
        self.assertEqual(task["stopCode"], "ServiceSchedulerInitiated")

    def test_min50_max100_stops_before_starting(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=4, deploymentConfiguration={
            "minimumHealthyPercent": 50, "maximumPercent": 100})
        before = len(self.describe()["events"])
        self.call("UpdateService", service="web", taskDefinition=td2)

        def check(svc):
            live, healthy = self.live_counts()
            self.assertLessEqual(live, 4)
            self.assertGreaterEqual(healthy, 2)

        self.assertIsNotNone(self.run_until(self.completed, 300, check))
        events = self.describe()["events"]
        new = [e["message"] for e in events[:len(events) - before]]
        new.reverse()   # oldest first
        self.assertRegex(new[0], r"has stopped 2 running tasks")
        self.assertRegex(new[1], r"has started 2 tasks")
        self.assertEqual(self.describe()["taskDefinition"], td2)

    def test_no_new_deployment_without_change_and_scaling(self):
        td1 = self.register("repo/web:1")
        svc = self.create_steady(td1, desired=2)
        first = svc["deployments"][0]["id"]
        out = self.call("UpdateService", service="web", taskDefinition="web")
        self.assertEqual(len(out["service"]["deployments"]), 1)
        out = self.call("UpdateService", service="web", desiredCount=3)
        self.assertEqual([d["id"] for d in out["service"]["deployments"]],
                         [first])
        self.assertIsNotNone(self.run_until(
            lambda s: s["runningCount"] == 3 and self.completed(s), 60))
        out = self.call("UpdateService", service="web", desiredCount=1)
        self.assertIsNotNone(self.run_until(
            lambda s: s["runningCount"] == 1, 30))
        out = self.call("UpdateService", service="web",
                        forceNewDeployment=True)
        self.assertEqual(len(out["service"]["deployments"]), 2)
        self.assertNotEqual(out["service"]["deployments"][0]["id"], first)

    def test_slow_completes_only_after_120s(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=2)
        self.scenario("slow")
        self.call("UpdateService", service="web", taskDefinition=td2)
        took = self.run_until(self.completed, 400)
        self.assertIsNotNone(took)
        self.assertGreaterEqual(took, 120)
        self.assertLess(took, 140)
        self.assertEqual(self.describe()["taskDefinition"], td2)

    def test_never_stable_never_completes_nor_fails(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=2, deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        self.scenario("never-stable")
        self.call("UpdateService", service="web", taskDefinition=td2)
        self.sim.t += 3600      # in one jump: the model catches up
        svc = self.describe()
        self.assertEqual(len(svc["deployments"]), 2)
        dep = svc["deployments"][0]
        self.assertEqual(dep["rolloutState"], "IN_PROGRESS")
        self.assertEqual(dep["failedTasks"], 0)
        self.assertEqual(dep["runningCount"], 2)   # running, never healthy
        self.assertEqual(svc["runningCount"], 4)
        self.assertEqual(self.latest_sd()["status"], "IN_PROGRESS")


class CircuitBreaker(EcsCase):
    def test_threshold(self):
        th = ecs.circuit_breaker_threshold
        self.assertEqual([th(1), th(4), th(7), th(10), th(400), th(1000)],
                         [3, 3, 4, 5, 200, 200])

    def crash_rollout(self, desired, rollback=True):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        svc = self.create_steady(td1, desired=desired,
                                 deploymentConfiguration={
                                     "deploymentCircuitBreaker": {
                                         "enable": True,
                                         "rollback": rollback}})
        good = svc["deployments"][0]["id"]
        good_sd = self.latest_sd()
        self.scenario("crash-loop")
        out = self.call("UpdateService", service="web", taskDefinition=td2)
        bad = out["service"]["deployments"][0]["id"]
        return td1, td2, good, good_sd, bad

    def check_rollback(self, desired):
        td1, td2, good, good_sd, bad = self.crash_rollout(desired)

        def check(svc):
            live, healthy = self.live_counts()
            self.assertLessEqual(live, 2 * desired)
            self.assertGreaterEqual(healthy, desired)

        def rolled_back(svc):
            return self.completed(svc) and \
                svc["deployments"][0]["id"] not in (good, bad)
        self.assertIsNotNone(self.run_until(rolled_back, 600, check))
        svc = self.describe()
        dep = svc["deployments"][0]
        self.assertEqual(dep["taskDefinition"], td1)
        self.assertEqual(svc["taskDefinition"], td1)
        self.assertEqual(dep["runningCount"], desired)
        msgs = self.messages()
        self.assertIn("(service web) rolling back to deployment %s." % good,
                      msgs)
        self.assertIn("(service web) (deployment %s) deployment failed: "
                      "tasks failed to start." % bad, msgs)
        self.assertIn("(service web) (deployment %s) deployment completed."
                      % dep["id"], msgs)

        sd = self.sd_of(self.latest_sd()["serviceDeploymentArn"])
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(sd["statusReason"], ecs.CB_REASON)
        self.assertEqual(sd["deploymentCircuitBreaker"]["status"],
                         "TRIGGERED")
        th = ecs.circuit_breaker_threshold(desired)
        self.assertEqual(sd["deploymentCircuitBreaker"]["threshold"], th)
        self.assertEqual(sd["deploymentCircuitBreaker"]["failureCount"], th)
        self.assertEqual(sd["rollback"]["reason"], ecs.CB_REASON)
        self.assertEqual(sd["rollback"]["serviceRevisionArn"],
                         good_sd["targetServiceRevisionArn"])
        self.assertIsInstance(sd["rollback"]["startedAt"], float)
        return bad

    def test_crash_loop_rollback_desired_1(self):
        bad = self.check_rollback(1)
        # the failed deployment reached FAILED with exactly the threshold
        model = self.model()
        self.assertIsNone(next((d for d in model.deployments
                                if d.id == bad), None))
        stopped = self.call("ListTasks", serviceName="web",
                            desiredStatus="STOPPED")["taskArns"]
        tasks = self.call("DescribeTasks", tasks=stopped)["tasks"]
        crashed = [x for x in tasks if x["startedBy"] == bad]
        self.assertEqual(len(crashed), 3)
        for task in crashed:
            self.assertEqual(task["stoppedReason"],
                             "Essential container in task exited")
            self.assertEqual(task["stopCode"], "EssentialContainerExited")
            self.assertEqual(task["lastStatus"], "STOPPED")
            c = task["containers"][0]
            self.assertEqual(c["exitCode"], 1)
            self.assertNotIn("reason", c)
            self.assertIsInstance(task["stoppedAt"], float)
        tid = crashed[0]["taskArn"].split("/")[-1]
        lines = [e for e in self.sim.logs.events
                 if e[3] == "ecs/app/%s" % tid]
        self.assertTrue(lines)
        self.assertTrue(all(e[2] == "/ecs/web" and e[0] == ACCOUNT
                            for e in lines))
        self.assertIn("panic: failed to connect to database: connection "
                      "refused", [e[4] for e in lines])
        self.assertEqual(lines[-1][4], "exit status 1")

    def test_crash_loop_rollback_desired_4_and_10(self):
        self.check_rollback(4)
        self.setUp()
        self.check_rollback(10)

    def test_failed_deployment_reported_while_rolling_back(self):
        _td1, _td2, _good, _good_sd, bad = self.crash_rollout(2)

        def failed(svc):
            return any(d["id"] == bad and d["rolloutState"] == "FAILED"
                       for d in svc["deployments"])
        self.assertIsNotNone(self.run_until(failed, 200))
        svc = self.describe()
        ids = [d["id"] for d in svc["deployments"]]
        self.assertEqual(len(ids), 3)          # rollback, bad, good
        self.assertEqual(ids[1], bad)
        bad_dep = svc["deployments"][1]
        self.assertEqual(bad_dep["status"], "ACTIVE")
        self.assertEqual(bad_dep["failedTasks"], 3)
        self.assertEqual(bad_dep["rolloutStateReason"], ecs.CB_REASON)
        self.assertEqual(svc["deployments"][0]["status"], "PRIMARY")
        self.assertEqual(svc["deployments"][0]["rolloutState"],
                         "IN_PROGRESS")
        self.assertEqual(self.latest_sd()["status"], "ROLLBACK_IN_PROGRESS")

    def test_circuit_breaker_without_rollback(self):
        _td1, td2, _good, _good_sd, bad = self.crash_rollout(2, False)
        self.sim.t += 1800
        svc = self.describe()
        dep = svc["deployments"][0]
        self.assertEqual(dep["id"], bad)
        self.assertEqual(dep["status"], "PRIMARY")
        self.assertEqual(dep["taskDefinition"], td2)
        self.assertEqual(dep["rolloutState"], "FAILED")
        self.assertEqual(dep["rolloutStateReason"], ecs.CB_REASON)
        self.assertEqual(dep["failedTasks"], 3)
        self.assertEqual(len(svc["deployments"]), 2)
        self.assertEqual(svc["runningCount"], 2)  # the old tasks stay
        sd = self.latest_sd()
        self.assertEqual(sd["status"], "STOPPED")
        self.assertEqual(sd["statusReason"], ecs.CB_REASON)
        # a FAILED deployment launches nothing more
        started = sum(1 for x in self.model().tasks if x.dep.id == bad)
        self.sim.t += 600
        self.describe()
        self.assertEqual(sum(1 for x in self.model().tasks
                             if x.dep.id == bad), started)

    def test_crash_loop_without_circuit_breaker_never_completes(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=2)
        self.scenario("crash-loop")
        self.call("UpdateService", service="web", taskDefinition=td2)
        self.assertIsNone(self.run_until(self.completed, 300))
        self.sim.t += 7200
        svc = self.describe()
        dep = svc["deployments"][0]
        self.assertEqual(dep["rolloutState"], "IN_PROGRESS")
        self.assertGreater(dep["failedTasks"], 20)
        self.assertEqual(len(svc["deployments"]), 2)
        self.assertEqual(svc["runningCount"], 2)
        # throttled: far fewer than one launch per 15 s over two hours
        self.assertLess(dep["failedTasks"], 200)
        self.assertLessEqual(len(self.model().tasks),
                             ecs.MAX_STOPPED_TASKS + 4)

    def test_unhealthy_fails_elb_checks(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=2, healthCheckGracePeriodSeconds=30,
                           deploymentConfiguration={
                               "deploymentCircuitBreaker": {
                                   "enable": True, "rollback": True}})
        self.scenario("unhealthy")
        self.call("UpdateService", service="web", taskDefinition=td2)
        self.assertIsNone(self.run_until(
            lambda s: s["deployments"][0]["failedTasks"] > 0, 65))
        self.sim.t += 600
        stopped = self.call("ListTasks", serviceName="web",
                            desiredStatus="STOPPED")["taskArns"]
        tasks = self.call("DescribeTasks", tasks=stopped)["tasks"]
        elb = [x for x in tasks if x["taskDefinitionArn"] == td2]
        self.assertTrue(elb)
        tg = ("arn:aws:elasticloadbalancing:%s:%s:targetgroup/web/"
              "0123456789abcdef" % (REGION, ACCOUNT))
        for task in elb:
            self.assertEqual(task["stoppedReason"],
                             "Task failed ELB health checks in "
                             "(target-group %s)" % tg)
            self.assertEqual(task["healthStatus"], "UNHEALTHY")
        svc = self.describe()
        self.assertEqual(svc["taskDefinition"], td1)   # rolled back
        self.assertTrue(self.completed(svc))
        self.assertEqual(self.latest_sd()["status"], "ROLLBACK_SUCCESSFUL")


class Scenarios(EcsCase):
    def test_scenario_by_image_substring(self):
        td1 = self.register("registry/web:v1")
        td2 = self.register("registry/web:v2-bad")
        self.ecs.control("scenario", {"image": "v2-bad",
                                      "scenario": "crash-loop"})
        self.create_steady(td1, desired=2, deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        self.call("UpdateService", service="web", taskDefinition=td2)
        self.assertIsNotNone(self.run_until(
            lambda s: self.completed(s) and s["taskDefinition"] == td1 and
            any("rolling back" in e["message"] for e in s["events"]), 600))
        # the same bad image in another service crashes as well
        self.call("CreateService", serviceName="api", taskDefinition=td2,
                  desiredCount=1)
        self.sim.t += 60
        self.assertGreater(self.describe("api")["deployments"][0]
                           ["failedTasks"], 0)

    def test_scenario_set_before_create_and_only_for_new_deployments(self):
        td1 = self.register("repo/web:1")
        self.scenario("slow")
        self.create(td1, desired=1)
        self.assertIsNone(self.run_until(self.completed, 100))
        self.assertIsNotNone(self.run_until(self.completed, 100))
        # a scenario set now leaves the running deployment alone
        self.scenario("crash-loop")
        self.sim.t += 600
        svc = self.describe()
        self.assertTrue(self.completed(svc))
        self.assertEqual(svc["deployments"][0]["failedTasks"], 0)

    def test_advance_control(self):
        before = self.sim.now()
        out = self.ecs.control("advance", {"seconds": 90})
        self.assertEqual(out["now"], before + 90)


class ServiceDeployments(EcsCase):
    def test_stop_service_deployment_rollback(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=2)
        self.scenario("never-stable")
        self.call("UpdateService", service="web", taskDefinition=td2)
        self.sim.t += 60
        arn = self.latest_sd()["serviceDeploymentArn"]
        self.assertEqual(self.sd_of(arn)["status"], "IN_PROGRESS")
        out = self.call("StopServiceDeployment", serviceDeploymentArn=arn,
                        stopType="ROLLBACK")
        self.assertEqual(out, {"serviceDeploymentArn": arn})
        self.assertEqual(self.sd_of(arn)["status"], "ROLLBACK_REQUESTED")
        self.sim.t += 2
        self.assertEqual(self.sd_of(arn)["status"], "ROLLBACK_IN_PROGRESS")
        self.assertIsNotNone(self.run_until(self.completed, 200))
        sd = self.sd_of(arn)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(self.describe()["taskDefinition"], td1)
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("StopServiceDeployment", serviceDeploymentArn=arn)
        self.assertEqual(code_of(cm.exception), "ConflictException")

    def test_list_service_deployments_statuses(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        td3 = self.register("repo/web:3")
        self.create_steady(td1, desired=1)
        self.scenario("never-stable")
        self.call("UpdateService", service="web", taskDefinition=td2)
        self.sim.t += 30
        self.scenario("healthy")
        self.call("UpdateService", service="web", taskDefinition=td3)
        self.sim.t += 5
        sds = self.call("ListServiceDeployments",
                        service="web")["serviceDeployments"]
        self.assertEqual([x["status"] for x in sds],
                         ["IN_PROGRESS", "STOPPED", "SUCCESSFUL"])
        self.assertIsNotNone(self.run_until(self.completed, 200))
        only = self.call("ListServiceDeployments", service="web",
                         status=["SUCCESSFUL"])["serviceDeployments"]
        self.assertEqual(len(only), 2)
        self.assertEqual(self.sd_of(only[0]["serviceDeploymentArn"])
                         ["targetServiceRevision"]["runningTaskCount"], 1)
        page = self.call("ListServiceDeployments", service="web",
                         maxResults=2)
        self.assertEqual(len(page["serviceDeployments"]), 2)
        rest = self.call("ListServiceDeployments", service="web",
                         nextToken=page["nextToken"])
        self.assertEqual(len(rest["serviceDeployments"]), 1)
        self.assertNotIn("nextToken", rest)
        with self.assertRaises(ecs.AwsError) as cm:
            self.call("ListServiceDeployments", service="nope")
        self.assertEqual(code_of(cm.exception), "ServiceNotFoundException")

    def test_alarm_rollback(self):
        td1 = self.register("repo/web:1")
        td2 = self.register("repo/web:2")
        self.create_steady(td1, desired=2, deploymentConfiguration={
            "alarms": {"alarmNames": ["web-5xx"], "enable": True,
                       "rollback": True}})
        self.scenario("slow")
        out = self.call("UpdateService", service="web", taskDefinition=td2)
        bad = out["service"]["deployments"][0]["id"]
        self.sim.t += 20
        self.assertEqual(self.describe()["deployments"][0]["id"], bad)
        self.sim.alarms[(ACCOUNT, REGION, "web-5xx")] = "ALARM"
        self.sim.t += 1
        svc = self.describe()
        failed = [d for d in svc["deployments"] if d["id"] == bad][0]
        self.assertEqual(failed["rolloutState"], "FAILED")
        self.assertEqual(failed["rolloutStateReason"],
                         "ECS deployment alarm triggered: web-5xx")
        self.assertNotEqual(svc["deployments"][0]["id"], bad)
        self.sim.alarms.clear()
        self.assertIsNotNone(self.run_until(self.completed, 200))
        self.assertEqual(self.describe()["taskDefinition"], td1)
        sd = self.sd_of(self.latest_sd()["serviceDeploymentArn"])
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(sd["alarms"]["status"], "TRIGGERED")
        self.assertEqual(sd["alarms"]["triggeredAlarmNames"], ["web-5xx"])


if __name__ == "__main__":
    unittest.main()
