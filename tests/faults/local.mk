# The fault-injection matrix (docs/reliability.md): every peer of every
# stage and gantry's own process and state, under injected faults.  make
# check runs each row as a test of its own (tests/faults/t-ROW.sh), which
# SKIPs when one of its cells cannot run here; `make check-faults` runs
# the whole matrix and shows the table.
FAULT_PARTS = tests/faults/lib.sh tests/faults/process.sh \
	tests/faults/git.sh tests/faults/builder.sh tests/faults/smoke.sh \
	tests/faults/slack.sh tests/faults/terraform.sh tests/faults/aws.sh
FAULT_TESTS = tests/faults/t-process.sh tests/faults/t-git.sh \
	tests/faults/t-builder.sh tests/faults/t-smoke.sh \
	tests/faults/t-slack.sh tests/faults/t-terraform.sh \
	tests/faults/t-aws.sh
TESTS += $(FAULT_TESTS)
EXTRA_DIST += tests/faults/matrix.sh $(FAULT_PARTS) $(FAULT_TESTS)

check-faults: all $(check_LTLIBRARIES)
	@$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/tests/faults/matrix.sh
.PHONY: check-faults
