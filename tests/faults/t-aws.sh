#!/bin/sh
# The fault matrix's aws row (tests/faults/aws.sh) as a test of its own: a
# cell that cannot run here (a tool is missing) makes it SKIP (exit 77).
FAULT_ROWS=aws
FAULT_SKIP_NA=1
export FAULT_ROWS FAULT_SKIP_NA
exec ${SHELL:-/bin/sh} "$top_srcdir/tests/faults/matrix.sh"
