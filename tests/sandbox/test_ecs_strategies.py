"""Unit test of the simulator's ECS-native strategies (awssim/ecs_strategies.py):
blue/green, linear and canary service deployments, lifecycle hooks,
ContinueServiceDeployment, rollbacks and the traffic split, on a hand-moved
clock without a server; every answer of the new shapes is checked against
botocore's ECS model (skipped without one).

python3 -m unittest test_ecs_strategies (from tests/sandbox)
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import awsmodel  # noqa: E402
from awssim import ecs, ecs_strategies  # noqa: E402
from test_ecs_model import ACCOUNT, REGION, EcsCase, code_of  # noqa: E402

try:
    awsmodel.load("ecs")
    HAVE_MODEL = True
except awsmodel.NoModel:
    HAVE_MODEL = False

TG = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/web-%s/0123456789abcdef"
RULE = "arn:aws:elasticloadbalancing:%s:%s:listener-rule/app/web/0123/" \
    "4567/%s"
LAMBDA = "arn:aws:lambda:%s:%s:function:smoke-hook" % (REGION, ACCOUNT)
ROLE = "arn:aws:iam::%s:role/ecs-blue-green" % ACCOUNT


def load_balancers(test_rule=True):
    adv = {"alternateTargetGroupArn": TG % (REGION, ACCOUNT, "green"),
           "productionListenerRule": RULE % (REGION, ACCOUNT, "prod"),
           "roleArn": ROLE}
    if test_rule:
        adv["testListenerRule"] = RULE % (REGION, ACCOUNT, "test")
    return [{"targetGroupArn": TG % (REGION, ACCOUNT, "blue"),
             "containerName": "app", "containerPort": 8080,
             "advancedConfiguration": adv}]


def pause(stage, **timeout):
    hook = {"targetType": "PAUSE", "lifecycleStages": [stage]}
    if timeout:
        hook["timeoutConfiguration"] = timeout
    return hook


def lambda_hook(stage):
    return {"targetType": "AWS_LAMBDA", "hookTargetArn": LAMBDA,
            "roleArn": ROLE, "lifecycleStages": [stage],
            "hookDetails": {"smoke": "/health"}}


class StrategyCase(EcsCase):
    def call(self, op, **params):
        out = self.ecs.call(op, params, self.req)
        if HAVE_MODEL:
            self.assertEqual(awsmodel.check("ecs", op, params), [],
                             "request of %s" % op)
            self.assertEqual(awsmodel.check_output("ecs", op, out), [],
                             "answer of %s" % op)
        return out

    def fails(self, code, op, **params):
        with self.assertRaises(ecs.AwsError) as cm:
            self.ecs.call(op, params, self.req)
        self.assertEqual(code_of(cm.exception), code)
        return cm.exception.message

    def blue_green(self, strategy="BLUE_GREEN", **config):
        """A steady service of v1 with the strategy; returns the task
        definitions v1, v2, v3."""
        tds = [self.register("repo/web:v%d" % i) for i in (1, 2, 3)]
        first = {"strategy": strategy, "bakeTimeInMinutes": 0}
        if strategy == "LINEAR":
            first["linearConfiguration"] = {"stepPercent": 100.0,
                                            "stepBakeTimeInMinutes": 0}
        if strategy == "CANARY":
            first["canaryConfiguration"] = {"canaryPercent": 100.0,
                                            "canaryBakeTimeInMinutes": 0}
        self.create_steady(tds[0], desired=2, loadBalancers=load_balancers(),
                           deploymentConfiguration=first)
        sd = self.sd_of(self.latest_sd()["serviceDeploymentArn"])
        self.assertEqual(sd["status"], "SUCCESSFUL")
        self.assertEqual(sd["lifecycleStage"], "CLEAN_UP")
        # the configuration of the deployments to come (no deployment)
        cfg = {"bakeTimeInMinutes": 2}
        cfg.update(config)
        self.call("UpdateService", service="web",
                  deploymentConfiguration=cfg)
        self.assertEqual(len(self.call("ListServiceDeployments",
                                       service="web")["serviceDeployments"]),
                         1)
        return tds

    def update(self, td, **config):
        params = {"service": "web", "taskDefinition": td}
        if config:
            params["deploymentConfiguration"] = config
        self.call("UpdateService", **params)
        return self.latest_sd()["serviceDeploymentArn"]

    def weights(self):
        """(green's production weight, green's test weight) the
        listeners route by now, from the model."""
        svc = self.model()
        route = ecs_strategies.routing(svc)
        run = ecs_strategies.running(svc)
        green = run.sd.target if run else None

        def share(kind):
            return sum(w for d, w in route[kind]
                       if d is not None and d is green)
        return share("production"), share("test")

    def walk(self, arn, until, limit=600):
        """Moves 1 s at a time until until(sd); returns the stages seen
        (each once, in order) and the production weights seen."""
        stages, weights = [], []
        for _ in range(limit):
            self.sim.t += 1
            sd = self.sd_of(arn)
            stage = sd.get("lifecycleStage")
            if stage and (not stages or stages[-1] != stage):
                stages.append(stage)
            w = sd["targetServiceRevision"].get(
                "requestedProductionTrafficWeight")
            if w is not None and (not weights or weights[-1] != w):
                weights.append(w)
            if until(sd):
                return stages, weights, sd
        self.fail("the service deployment never got there: %s" % sd)

    @staticmethod
    def awaiting(sd):
        return any(h["status"] == "AWAITING_ACTION"
                   for h in sd.get("lifecycleHookDetails") or [])

    @staticmethod
    def over(sd):
        return sd["status"] not in ecs_strategies.ONGOING


class Validation(StrategyCase):
    def test_ranges_and_requirements(self):
        td = self.register("repo/web:v1")
        base = dict(serviceName="web", taskDefinition=td, desiredCount=1)
        msg = self.fails("InvalidParameterException", "CreateService",
                         deploymentConfiguration={"strategy": "BLUE_GREEN",
                                                  "bakeTimeInMinutes": 5},
                         **base)
        self.assertIn("advancedConfiguration", msg)
        self.assertIn("BLUE_GREEN", msg)
        lbs = load_balancers()
        bad = [
            {"strategy": "PURPLE"},
            {"strategy": "BLUE_GREEN"},                  # no bake time
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441},
            {"strategy": "LINEAR", "linearConfiguration":
             {"stepPercent": 2.9}},
            {"strategy": "LINEAR", "linearConfiguration":
             {"stepPercent": 10.05}},
            {"strategy": "LINEAR", "linearConfiguration":
             {"stepPercent": 10.0, "stepBakeTimeInMinutes": 1441}},
            {"strategy": "CANARY", "canaryConfiguration":
             {"canaryPercent": 0.05}},
            {"strategy": "CANARY", "canaryConfiguration":
             {"canaryPercent": 100.1}},
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
             "linearConfiguration": {"stepPercent": 10.0}},
            {"strategy": "ROLLING",
             "lifecycleHooks": [pause("POST_SCALE_UP")]},
            {"strategy": "CANARY",
             "lifecycleHooks": [pause("TEST_TRAFFIC_SHIFT")]},
            {"strategy": "CANARY",
             "lifecycleHooks": [pause("PRODUCTION_TRAFFIC_SHIFT")]},
            {"strategy": "CANARY", "lifecycleHooks": [pause("BAKE_TIME")]},
            {"strategy": "CANARY", "lifecycleHooks": [
                {"targetType": "AWS_LAMBDA", "roleArn": ROLE,
                 "lifecycleStages": ["POST_SCALE_UP"]}]},
            {"strategy": "CANARY", "lifecycleHooks": [
                pause("POST_SCALE_UP", timeoutInMinutes=0)]},
            {"strategy": "CANARY", "lifecycleHooks": [
                pause("POST_SCALE_UP", timeoutInMinutes=20161)]},
            {"strategy": "CANARY", "lifecycleHooks": [
                pause("POST_SCALE_UP", action="WAIT")]},
        ]
        for cfg in bad:
            self.fails("InvalidParameterException", "CreateService",
                       loadBalancers=lbs, deploymentConfiguration=cfg, **base)
        broken = load_balancers()
        del broken[0]["advancedConfiguration"]["alternateTargetGroupArn"]
        self.fails("InvalidParameterException", "CreateService",
                   loadBalancers=broken, **base)
        # the good ones, and what comes back
        out = self.call("CreateService", loadBalancers=lbs,
                        deploymentConfiguration={
                            "strategy": "LINEAR", "bakeTimeInMinutes": 0,
                            "linearConfiguration": {
                                "stepPercent": 33.3,
                                "stepBakeTimeInMinutes": 0},
                            "lifecycleHooks": [
                                pause("POST_TEST_TRAFFIC_SHIFT",
                                      timeoutInMinutes=20160,
                                      action="CONTINUE"),
                                lambda_hook("PRE_PRODUCTION_TRAFFIC_SHIFT")]},
                        **base)["service"]
        cfg = out["deploymentConfiguration"]
        self.assertEqual(cfg["strategy"], "LINEAR")
        self.assertEqual(cfg["linearConfiguration"],
                         {"stepPercent": 33.3, "stepBakeTimeInMinutes": 0})
        self.assertEqual(cfg["lifecycleHooks"][0]["timeoutConfiguration"],
                         {"timeoutInMinutes": 20160, "action": "CONTINUE"})
        self.assertEqual(out["loadBalancers"], lbs)
        # a rolling service cannot switch without advancedConfiguration
        self.call("CreateService", serviceName="plain", taskDefinition=td,
                  desiredCount=1)
        msg = self.fails("InvalidParameterException", "UpdateService",
                         service="plain", deploymentConfiguration={
                             "strategy": "CANARY"})
        self.assertIn("advancedConfiguration", msg)
        self.assertNotIn("strategy",
                         self.describe("plain")["deploymentConfiguration"])


class BlueGreen(StrategyCase):
    def test_pause_then_continue(self):
        td1, td2, _ = self.blue_green()
        self.sim.t += 30
        arn = self.update(td2, lifecycleHooks=[
            pause("POST_TEST_TRAFFIC_SHIFT")])
        stages, _, sd = self.walk(arn, self.awaiting)
        self.assertEqual(stages, ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP",
                                  "TEST_TRAFFIC_SHIFT",
                                  "POST_TEST_TRAFFIC_SHIFT"])
        hook = sd["lifecycleHookDetails"][0]
        self.assertRegex(hook["hookId"], r"^ecs-pause-[A-Za-z0-9_-]{43}$")
        self.assertEqual(hook["targetType"], "PAUSE")
        self.assertEqual(hook["timeoutAction"], "ROLLBACK")
        self.assertNotIn("targetArn", hook)
        self.assertAlmostEqual(hook["expiresAt"] - self.sim.t, 20160 * 60,
                               delta=5)
        target = sd["targetServiceRevision"]
        self.assertEqual((target["runningTaskCount"],
                          target["requestedTestTrafficWeight"],
                          target["requestedProductionTrafficWeight"]),
                         (2, 100.0, 0.0))
        self.assertEqual(sd["sourceServiceRevisions"][0]
                         ["requestedProductionTrafficWeight"], 100.0)
        self.assertEqual(self.weights(), (0.0, 100.0))
        # it stays paused
        self.sim.t += 3600
        sd = self.sd_of(arn)
        self.assertEqual((sd["status"], sd["lifecycleStage"]),
                         ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT"))
        svc = self.describe()
        self.assertEqual([d["status"] for d in svc["deployments"]],
                         ["PRIMARY", "ACTIVE"])
        self.assertEqual(svc["runningCount"], 4)
        # ContinueServiceDeployment's checks
        msg = self.fails("InvalidParameterException",
                         "ContinueServiceDeployment",
                         serviceDeploymentArn=arn, hookId="ecs-pause-nope")
        self.assertIn("ecs-pause-nope", msg)
        self.fails("ServiceDeploymentNotFoundException",
                   "ContinueServiceDeployment",
                   serviceDeploymentArn=arn + "x", hookId=hook["hookId"])
        self.fails("InvalidParameterException", "ContinueServiceDeployment",
                   serviceDeploymentArn=arn, hookId=hook["hookId"],
                   action="MAYBE")
        out = self.call("ContinueServiceDeployment",
                        serviceDeploymentArn=arn, hookId=hook["hookId"])
        self.assertEqual(out, {"serviceDeploymentArn": arn})
        msg = self.fails("InvalidParameterException",
                         "ContinueServiceDeployment",
                         serviceDeploymentArn=arn, hookId=hook["hookId"])
        self.assertIn("SUCCEEDED", msg)
        stages, weights, sd = self.walk(arn, self.over)
        self.assertEqual(stages, ["PRODUCTION_TRAFFIC_SHIFT",
                                  "POST_PRODUCTION_TRAFFIC_SHIFT",
                                  "BAKE_TIME", "CLEAN_UP"])
        self.assertEqual(weights, [0.0, 100.0])
        self.assertEqual(sd["status"], "SUCCESSFUL")
        self.assertEqual(sd["lifecycleHookDetails"][0]["status"],
                         "SUCCEEDED")
        svc = self.describe()
        self.assertEqual(svc["taskDefinition"], td2)
        self.assertEqual(len(svc["deployments"]), 1)
        self.assertEqual(svc["deployments"][0]["rolloutState"], "COMPLETED")
        self.assertEqual(self.live_counts(), (2, 2))
        self.fails("InvalidParameterException", "ContinueServiceDeployment",
                   serviceDeploymentArn=arn, hookId=hook["hookId"])
        brief = self.call("ListServiceDeployments", service="web")
        self.assertEqual(brief["serviceDeployments"][0]["status"],
                         "SUCCESSFUL")

    def test_bake_time_holds_blue_then_cleans_up(self):
        td1, td2, _ = self.blue_green(bakeTimeInMinutes=10)
        arn = self.update(td2)
        _, _, sd = self.walk(arn, lambda sd: sd.get("lifecycleStage") ==
                             "BAKE_TIME")
        start = self.sim.t
        self.assertEqual(self.weights(), (100.0, 100.0))
        self.assertEqual(self.live_counts(), (4, 4))
        _, _, sd = self.walk(arn, lambda sd: sd.get("lifecycleStage") ==
                             "CLEAN_UP")
        self.assertGreaterEqual(self.sim.t - start, 600)
        self.assertLessEqual(self.sim.t - start, 603)

    def test_rollback_by_continue(self):
        td1, td2, _ = self.blue_green()
        arn = self.update(td2, lifecycleHooks=[
            pause("POST_TEST_TRAFFIC_SHIFT")])
        _, weights, sd = self.walk(arn, self.awaiting)
        hook = sd["lifecycleHookDetails"][0]["hookId"]
        self.call("ContinueServiceDeployment", serviceDeploymentArn=arn,
                  hookId=hook, action="ROLLBACK")
        self.assertEqual(self.weights(), (0.0, 0.0))
        sd = self.sd_of(arn)
        self.assertEqual(sd["status"], "ROLLBACK_IN_PROGRESS")
        self.assertEqual(sd["lifecycleHookDetails"][0]["status"], "FAILED")
        _, more, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertNotIn(100.0, weights + more)
        self.assertEqual(sd["rollback"]["serviceRevisionArn"],
                         sd["sourceServiceRevisions"][0]["arn"])
        svc = self.describe()
        self.assertEqual(svc["taskDefinition"], td1)
        self.assertEqual([d["status"] for d in svc["deployments"]],
                         ["PRIMARY"])
        self.assertEqual(self.live_counts(), (2, 2))
        self.fails("ConflictException", "StopServiceDeployment",
                   serviceDeploymentArn=arn)
        # the next deployment starts from blue again
        arn = self.update(td2, lifecycleHooks=[])
        _, _, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "SUCCESSFUL")

    def test_stop_rolls_back_during_bake_time(self):
        td1, td2, _ = self.blue_green(bakeTimeInMinutes=30)
        arn = self.update(td2)
        self.walk(arn, lambda sd: sd.get("lifecycleStage") == "BAKE_TIME")
        self.assertEqual(self.weights(), (100.0, 100.0))
        self.call("StopServiceDeployment", serviceDeploymentArn=arn,
                  stopType="ROLLBACK")
        self.assertEqual(self.weights(), (0.0, 0.0))
        route = ecs_strategies.routing(self.model())["production"]
        self.assertEqual(route, [(None, 100.0)])
        self.assertEqual(self.describe()["taskDefinition"], td1)
        _, _, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(sd["rollback"]["reason"],
                         "Rollback requested by StopServiceDeployment.")

    def test_pause_timeouts(self):
        td1, td2, td3 = self.blue_green()
        arn = self.update(td2, lifecycleHooks=[
            pause("POST_SCALE_UP", timeoutInMinutes=5, action="CONTINUE")])
        _, _, sd = self.walk(arn, self.awaiting)
        _, _, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "SUCCESSFUL")
        self.assertEqual(sd["lifecycleHookDetails"][0]["status"],
                         "TIMED_OUT")
        arn = self.update(td3, lifecycleHooks=[
            pause("PRE_SCALE_UP", timeoutInMinutes=1)])
        _, _, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(sd["lifecycleHookDetails"][0]["status"],
                         "TIMED_OUT")
        self.assertEqual(self.describe()["taskDefinition"], td2)

    def test_circuit_breaker_in_scale_up(self):
        td1, td2, _ = self.blue_green(deploymentCircuitBreaker={
            "enable": True, "rollback": True})
        self.scenario("crash-loop", image="web:v2")
        arn = self.update(td2)
        _, weights, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(weights, [0.0])
        self.assertEqual(self.describe()["taskDefinition"], td1)

    def test_first_deployment_has_no_blue(self):
        td = self.register("repo/web:v1")
        self.create(td, loadBalancers=load_balancers(),
                    deploymentConfiguration={
                        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                        "lifecycleHooks": [pause("POST_SCALE_UP")]})
        arn = self.latest_sd()["serviceDeploymentArn"]
        _, _, sd = self.walk(arn, self.awaiting)
        self.assertEqual(ecs_strategies.routing(self.model())["production"],
                         [])
        self.call("ContinueServiceDeployment", serviceDeploymentArn=arn,
                  hookId=sd["lifecycleHookDetails"][0]["hookId"],
                  action="ROLLBACK")
        self.assertEqual(self.sd_of(arn)["status"], "ROLLBACK_FAILED")


class LambdaHooks(StrategyCase):
    def lambda_answer(self, *answers):
        return self.ecs.control("lambda-hook", {"function": "smoke-hook",
                                                "answers": list(answers)})

    def test_failed_answer_rolls_back(self):
        td1, td2, _ = self.blue_green()
        self.lambda_answer({"hookStatus": "FAILED"})
        arn = self.update(td2, lifecycleHooks=[
            lambda_hook("POST_TEST_TRAFFIC_SHIFT")])
        _, weights, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(weights, [0.0])
        hook = sd["lifecycleHookDetails"][0]
        self.assertEqual((hook["targetType"], hook["targetArn"],
                          hook["status"]), ("AWS_LAMBDA", LAMBDA, "FAILED"))
        self.assertRegex(hook["hookId"], r"^ecs-lambda-")
        self.assertIn("FAILED", sd["rollback"]["reason"])
        calls = self.ecs.control("lambda-invocations", {})["invocations"]
        self.assertEqual(len(calls), 1)
        details = calls[0]["payload"]["executionDetails"]
        self.assertEqual(details["lifecycleStage"], "POST_TEST_TRAFFIC_SHIFT")
        self.assertEqual(calls[0]["payload"]["hookDetails"],
                         {"smoke": "/health"})
        self.assertEqual(self.describe()["taskDefinition"], td1)

    def test_in_progress_then_succeeded(self):
        td1, td2, _ = self.blue_green()
        self.lambda_answer({"hookStatus": "IN_PROGRESS", "callBackDelay": 45},
                           {"hookStatus": "SUCCEEDED"})
        arn = self.update(td2, lifecycleHooks=[lambda_hook("POST_SCALE_UP")])
        _, _, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "SUCCESSFUL")
        calls = self.ecs.control("lambda-invocations", {})["invocations"]
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[1]["time"] - calls[0]["time"], 45)

    def test_bad_answer_rolls_back(self):
        td1, td2, _ = self.blue_green()
        self.lambda_answer({"hookStatus": "MAYBE"})
        arn = self.update(td2, lifecycleHooks=[lambda_hook("PRE_SCALE_UP")])
        _, _, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "ROLLBACK_SUCCESSFUL")
        self.assertIn("invalid response", sd["rollback"]["reason"])


class Steps(StrategyCase):
    def test_canary(self):
        _, td2, _ = self.blue_green(
            "CANARY", canaryConfiguration={"canaryPercent": 20.0,
                                           "canaryBakeTimeInMinutes": 5})
        arn = self.update(td2)
        seen = []

        def until(sd):
            w = self.weights()[0]
            if not seen or seen[-1][0] != w:
                seen.append((w, self.sim.t))
            return self.over(sd)
        _, weights, sd = self.walk(arn, until)
        self.assertEqual(sd["status"], "SUCCESSFUL")
        self.assertEqual(weights, [0.0, 20.0, 100.0])
        self.assertEqual([w for w, _ in seen], [0.0, 20.0, 100.0, 0.0])
        self.assertGreaterEqual(seen[2][1] - seen[1][1], 300)

    def test_linear_with_a_hook_each_step(self):
        _, td2, _ = self.blue_green(
            "LINEAR", linearConfiguration={"stepPercent": 25.0,
                                           "stepBakeTimeInMinutes": 1})
        arn = self.update(td2, lifecycleHooks=[
            lambda_hook("PRE_PRODUCTION_TRAFFIC_SHIFT")])
        _, weights, sd = self.walk(arn, self.over)
        self.assertEqual(sd["status"], "SUCCESSFUL")
        self.assertEqual(weights, [0.0, 25.0, 50.0, 75.0, 100.0])
        ids = [h["hookId"] for h in sd["lifecycleHookDetails"]]
        self.assertEqual(len(ids), 4)
        self.assertEqual(len(set(ids)), 4)

    def test_linear_step_sizes(self):
        steps = ecs_strategies._production_steps(
            {"strategy": "LINEAR", "linearConfiguration": {
                "stepPercent": 30.0, "stepBakeTimeInMinutes": 2}})
        self.assertEqual(steps, [(30.0, 120), (60.0, 120), (90.0, 120),
                                 (100.0, 0)])
        self.assertEqual(ecs_strategies._production_steps(
            {"strategy": "CANARY"}), [(5.0, 600), (100.0, 0)])


if __name__ == "__main__":
    unittest.main()
