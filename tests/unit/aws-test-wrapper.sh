#!/bin/sh
# Runs check_aws against a sandbox of its own: starts the AWS simulator in
# a temporary directory, exports its env.sh, runs the test (under valgrind
# when GANTRY_VALGRIND=1, through tests/run-test), and stops the sandbox
# however the test ends.  Exits 77 (skip) when the sandbox cannot run here.
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
sandbox=$srcdir/tests/sandbox/sandbox

if ! command -v python3 >/dev/null 2>&1; then
	echo "aws-test-wrapper: python3 is missing, so the sandbox cannot run: skipped" >&2
	exit 77
fi
if [ ! -x "$sandbox" ]; then
	echo "aws-test-wrapper: $sandbox is missing: skipped" >&2
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/gantry-aws.XXXXXX") || exit 99
cleanup() {
	"$sandbox" stop "$dir" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$sandbox" start "$dir" --no-registry >"$dir/start.log" 2>&1; then
	echo "aws-test-wrapper: the sandbox did not start:" >&2
	cat "$dir/start.log" "$dir/awssim.log" >&2 2>/dev/null
	exit 99
fi
. "$dir/env.sh"

"$srcdir/tests/run-test" "$builddir/tests/unit/check_aws"
exit $?
