#!/bin/sh
# The fault matrix's git row (tests/faults/git.sh) as a test of its own: a
# cell that cannot run here (a tool is missing) makes it SKIP (exit 77).
FAULT_ROWS=git
FAULT_SKIP_NA=1
export FAULT_ROWS FAULT_SKIP_NA
exec ${SHELL:-/bin/sh} "$top_srcdir/tests/faults/matrix.sh"
