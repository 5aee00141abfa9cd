# CLI tests: one script per topic, numbered as git's t/ does.
CLI_TESTS = \
	tests/cli/t0000-basic.sh \
	tests/cli/t0010-json-usage.sh \
	tests/cli/t0100-config.sh \
	tests/cli/t0120-tags.sh \
	tests/cli/t0150-hostile-files.sh \
	tests/cli/t0200-plugins.sh \
	tests/cli/t0300-deploy.sh \
	tests/cli/t0310-status-line.sh \
	tests/cli/t0320-untrusted-text.sh \
	tests/cli/t0321-untrusted-text-git.sh \
	tests/cli/t0400-policies.sh \
	tests/cli/t0500-containment.sh \
	tests/cli/t0600-lock.sh \
	tests/cli/t0700-signals.sh \
	tests/cli/t0800-secrets.sh \
	tests/cli/t0900-approval.sh \
	tests/cli/t0910-approval-stage.sh \
	tests/cli/t0911-approval-shared.sh \
	tests/cli/t1000-rollback.sh \
	tests/cli/t1100-shared-state.sh \
	tests/cli/t1200-batch.sh \
	tests/cli/t1300-report.sh \
	tests/cli/t1310-report-chromium.sh \
	tests/cli/t1400-secrets-audit.sh \
	tests/cli/t1410-secrets-audit-registry.sh \
	tests/cli/t1420-secrets-audit-terraform.sh \
	tests/cli/t1500-loading-audit.sh \
	tests/cli/t1510-loading-audit-owner.sh \
	tests/cli/t2000-terraform.sh \
	tests/cli/t2010-terraform-realworld.sh \
	tests/cli/t2100-smoke.sh \
	tests/cli/t2110-smoke-tls.sh \
	tests/cli/t2200-slack.sh \
	tests/cli/t2300-betterstack.sh \
	tests/cli/t2400-git-release.sh \
	tests/cli/t2500-docker-build.sh \
	tests/cli/t2510-docker-build-docker.sh \
	tests/cli/t2600-ecs-rolling.sh \
	tests/cli/t2610-ecs-requests.sh \
	tests/cli/t2611-ecs-requests-realworld.sh \
	tests/cli/t2620-ecs-strategies.sh \
	tests/cli/t2700-ecr.sh \
	tests/cli/t3000-demo.sh \
	tests/cli/t3010-demo-tools.sh \
	tests/cli/t3100-contrib.sh \
	tests/cli/t3110-contrib-workflows.sh \
	tests/cli/t3200-docs.sh \
	tests/cli/t3300-harness.sh
TESTS += $(CLI_TESTS)
EXTRA_DIST += $(CLI_TESTS)
# Setup shared by the tests of one topic (sourced after tests/lib.sh).
CLI_LIBS = \
	tests/cli/lib-docker-build.sh \
	tests/cli/lib-ecs-requests.sh \
	tests/cli/lib-loading-audit.sh \
	tests/cli/lib-report.sh \
	tests/cli/lib-secrets-audit.sh \
	tests/cli/lib-smoke.sh \
	tests/cli/lib-terraform.sh \
	tests/cli/lib-untrusted-text.sh
EXTRA_DIST += $(CLI_LIBS)
