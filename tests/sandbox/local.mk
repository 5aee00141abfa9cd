# The local AWS sandbox (tests/sandbox/README.md): the simulator, the
# start/stop script, and the tests that check them against the real AWS CLI
# and curl's SigV4 signing.

SANDBOX_TESTS = tests/sandbox/t-awscli.sh tests/sandbox/t-awscli-registry.sh \
	tests/sandbox/t-sigv4.sh tests/sandbox/t-ecs-model.sh
TESTS += $(SANDBOX_TESTS)

EXTRA_DIST += $(SANDBOX_TESTS) \
	tests/sandbox/README.md \
	tests/sandbox/sandbox \
	tests/sandbox/lib-sandbox.sh \
	tests/sandbox/lib-awscli.sh \
	tests/sandbox/test_ecs_model.py \
	tests/sandbox/test_aws_model.py \
	tests/sandbox/awsmodel.py \
	tests/sandbox/awssim/__init__.py \
	tests/sandbox/awssim/__main__.py \
	tests/sandbox/awssim/cloudwatch.py \
	tests/sandbox/awssim/common.py \
	tests/sandbox/awssim/ecr.py \
	tests/sandbox/awssim/ecs.py \
	tests/sandbox/awssim/guard.py \
	tests/sandbox/awssim/identity.py \
	tests/sandbox/awssim/logs.py \
	tests/sandbox/awssim/secrets.py \
	tests/sandbox/awssim/server.py \
	tests/sandbox/awssim/serve.py \
	tests/sandbox/awssim/sigv4.py \
	tests/sandbox/awssim/sts.py

# ECS-native strategies (blue/green, linear, canary) and the simulated load
# balancer that routes real HTTP to the task processes.
EXTRA_DIST += tests/sandbox/test_ecs_strategies.py \
	tests/sandbox/awssim/ecs_strategies.py \
	tests/sandbox/awssim/taskapp.py \
	tests/sandbox/awssim/traffic.py
TESTS += tests/sandbox/t-ecs-strategies.sh
EXTRA_DIST += tests/sandbox/t-ecs-strategies.sh \
	tests/sandbox/test_ecs_traffic.py
