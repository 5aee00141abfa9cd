#!/bin/sh
# The ECS rolling-deployment model of the simulator, tested without a server,
# and its blue/green, linear and canary strategies (python3 unittest; see
# test_ecs_model.py, test_ecs_strategies.py), and the check of requests
# against botocore's models (awsmodel.py, test_aws_model.py: skipped parts
# without a model).
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
cd "$top_srcdir/tests/sandbox" || exit 99
PYTHONDONTWRITEBYTECODE=1 exec python3 -m unittest test_ecs_model \
	test_ecs_strategies test_aws_model
