# The example service (contrib/example/address-api) and `make demo`, which
# runs the seed's whole workflow on it with gantry against the local
# sandbox (contrib/demo/run-demo).  The same scenario runs inside
# `make check` as tests/cli/t3000-demo.sh, at a faster time scale.
demo: all
	bash $(srcdir)/contrib/demo/run-demo $(abs_builddir) $(abs_srcdir)
.PHONY: demo

EXTRA_DIST += \
	contrib/demo/run-demo \
	contrib/demo/blue-green.cfg \
	contrib/demo/ecs-call.py \
	contrib/demo/loadgen.py \
	contrib/example/address-api/.gitignore \
	contrib/example/address-api/address-api.c \
	contrib/example/address-api/Dockerfile \
	contrib/example/address-api/terraform/main.tf \
	contrib/example/address-api/terraform/ecs-deploy.sh \
	contrib/example/address-api/tests/integration-test.sh
