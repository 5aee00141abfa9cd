# The fault-injection matrix (docs/reliability.md): every peer of every
# stage and gantry's own process and state, under injected faults.  It is
# one of `make check`'s TESTS; `make check-faults` runs it alone and shows
# the table.
FAULT_PARTS = tests/faults/lib.sh tests/faults/process.sh \
	tests/faults/git.sh tests/faults/builder.sh tests/faults/smoke.sh \
	tests/faults/slack.sh tests/faults/terraform.sh tests/faults/aws.sh
TESTS += tests/faults/matrix.sh
EXTRA_DIST += tests/faults/matrix.sh $(FAULT_PARTS)

check-faults: all $(check_LTLIBRARIES)
	@$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/tests/faults/matrix.sh
.PHONY: check-faults
