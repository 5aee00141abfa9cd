"""Unit test of awsmodel.py, the check of requests against botocore's
models, and of what it guards in gantry: the members ecs-rolling copies
into RegisterTaskDefinition (plugins/ecs-rolling/ecsapi.c).

python3 -m unittest tests/sandbox/test_aws_model.py (skips without a model)
"""

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import awsmodel  # noqa: E402

try:
    ECS = awsmodel.load("ecs")
except awsmodel.NoModel:
    ECS = None


def good_register():
    return {
        "family": "web", "networkMode": "awsvpc", "cpu": "256",
        "memory": "512", "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [{
            "name": "app", "image": "repo/web:2", "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "dockerLabels": {"a": "b"},
            "logConfiguration": {"logDriver": "awslogs",
                                 "options": {"awslogs-group": "/ecs/web"}}}],
        "tags": [{"key": "team", "value": "payments"}]}


@unittest.skipIf(ECS is None, "no botocore ECS model")
class Checks(unittest.TestCase):
    def faults(self, params, op="RegisterTaskDefinition", service="ecs"):
        return awsmodel.check(service, op, params)

    def test_a_good_request_passes(self):
        self.assertEqual(self.faults(good_register()), [])
        self.assertEqual(self.faults({"cluster": "c", "services": ["web"],
                                      "include": ["TAGS"]},
                                     "DescribeServices"), [])

    def test_a_bad_request_fails_at_every_rule(self):
        bad = good_register()
        c = bad["containerDefinitions"][0]
        bad["deleteRequestedAt"] = 1700000000.0      # response-only member
        bad["revision"] = 3                           # response-only member
        c["cpu"] = "256"                              # integer wanted
        c["essential"] = "yes"                        # boolean wanted
        c["portMappings"][0]["protocol"] = "sctp"     # not in the enum
        c["logConfiguration"]["options"]["x"] = 1     # map of strings
        c["healthCheck"] = {"interval": 5}            # required command
        bad["tags"].append({"key": "", "value": "v"})  # key min 1
        bad["tags"] += [{"key": "k%d" % i} for i in range(50)]  # max 50
        del bad["family"]                             # required
        got = "\n".join(self.faults(bad))
        for want in (r"^deleteRequestedAt: not a member of "
                     r"RegisterTaskDefinitionRequest$",
                     r"^revision: not a member",
                     r"^containerDefinitions\[0\]\.cpu: integer expected",
                     r"^containerDefinitions\[0\]\.essential: boolean",
                     r"protocol: \"sctp\" is not one of TransportProtocol",
                     r"options\[\"x\"\]: string expected, got 1",
                     r"healthCheck: required member 'command'",
                     r"^tags\[1\]\.key: length 0 is below the model's min 1",
                     r"^tags: list length 52 is above the model's max 50",
                     r"^\(request\): required member 'family'"):
            self.assertRegex(got, re.compile(want, re.M))
        self.assertRegex(self.faults({}, "FrobnicateService")[0],
                         r"^operation FrobnicateService is not in /")

    def test_query_requests(self):
        try:
            awsmodel.load("cloudwatch")
        except awsmodel.NoModel:
            self.skipTest("no CloudWatch model")
        ok = {"AlarmNames.member.1": "a", "AlarmNames.member.2": "b"}
        self.assertEqual(awsmodel.check("monitoring", "DescribeAlarms", ok,
                                        query=True), [])
        bad = dict(ok, MaxRecords="lots", AlarmName="a")
        self.assertEqual(awsmodel.check("monitoring", "DescribeAlarms", bad,
                                        query=True),
                         ["AlarmName: not a field of DescribeAlarmsInput",
                          'MaxRecords: integer expected, got "lots"'])

    def test_recorded_calls(self):
        calls = [
            {"service": "ecs", "operation": "RegisterTaskDefinition",
             "user_agent": "gantry/1.0", "protocol": "json",
             "params": dict(good_register(), registeredAt=1.0)},
            {"service": "ecs", "operation": "RegisterTaskDefinition",
             "user_agent": "aws-cli/2", "protocol": "json",
             "params": {"bogus": 1}}]
        checked, faults = awsmodel.check_calls(calls)
        self.assertEqual(checked, 1)
        self.assertEqual(faults, ["ecs.RegisterTaskDefinition registeredAt: "
                                  "not a member of "
                                  "RegisterTaskDefinitionRequest"])


@unittest.skipIf(ECS is None, "no botocore ECS model")
class EcsRollingAllowList(unittest.TestCase):
    """ecs-rolling copies into RegisterTaskDefinition only the members of
    its allow-list: they must be request members (never a response-only
    one), and every member a TaskDefinition shares with the request must
    be there (or a new revision would silently lose it)."""

    def test_register_members_match_the_model(self):
        src = os.path.join(HERE, "..", "..", "plugins", "ecs-rolling",
                           "ecsapi.c")
        with open(src, encoding="utf-8") as f:
            text = f.read()
        block = re.search(r"BEGIN register_members \*/(.*?)/\* END", text,
                          re.S)
        self.assertIsNotNone(block, "no register_members list in ecsapi.c")
        listed = set(re.findall(r'"(\w+)"', block.group(1)))
        shapes = ECS["shapes"]
        request = set(shapes["RegisterTaskDefinitionRequest"]["members"])
        td = set(shapes["TaskDefinition"]["members"])
        self.assertEqual(listed - request, set(),
                         "not RegisterTaskDefinition members (%s)"
                         % ECS["_path"])
        self.assertEqual((request & td) - listed, set(),
                         "members a new revision would lose (%s)"
                         % ECS["_path"])
        self.assertEqual(request - td, {"tags"})
        self.assertNotIn("tags", listed)


if __name__ == "__main__":
    unittest.main()
