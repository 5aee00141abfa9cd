# Benchmarks (bench/): not part of make check; each prints its figures.
# bench/push.py (the ecr push) and bench/ecs-wait.py (ecs-rolling's waits)
# run by hand; see their headers.
# Start-up benchmark (bench/startup.py): median wall time and peak RSS of
# config check and plan against an empty program linked like gantry.
EXTRA_DIST += bench/startup.py bench/aws.py bench/aws-describe.c bench/batch.py \
	bench/push.py bench/ecs-wait.py bench/progressive.py \
	bench/README.md
bench: all
	python3 $(srcdir)/bench/startup.py $(abs_builddir) $(abs_srcdir)
# DescribeServices through libgantry vs the AWS CLI, against the sandbox.
bench-aws: all
	python3 $(srcdir)/bench/aws.py $(abs_builddir) $(abs_srcdir)
# 50 deploys through gantry batch with -j 1, 10, 25 against the sandbox.
bench-batch: all
	/usr/bin/python3 $(srcdir)/bench/batch.py $(abs_builddir) $(abs_srcdir)
# The same broken release under load with rolling, canary and blue/green
# (+ smoke), against the sandbox: bad production requests, smoke-to-rollback
# latency, ECS calls while waiting (bench/README.md has the figures).
bench-progressive: all
	python3 $(srcdir)/bench/progressive.py $(abs_builddir) $(abs_srcdir)
.PHONY: bench bench-aws bench-batch bench-progressive
