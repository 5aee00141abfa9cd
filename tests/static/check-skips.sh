#!/bin/sh
# check-skips.sh [FILE...]: no test script prints a skip note and goes on.
# A skip is always a whole test (exit 77, automake's SKIP): a part that
# needs an optional tool or file is a test of its own.  An echo or printf
# whose text says skip/skipped/SKIP (or "not tried") must end the script
# with exit 77: on its own line, or in the commands that follow it before
# anything else runs (more echo/printf lines, blank lines, comments).
# Without FILEs it checks every test script of the tree, after checking
# itself on the pattern it exists to catch (it leaves itself out: it
# holds that pattern).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

# scan FILE...: prints FILE:LINE: TEXT for every skip note not followed by
# exit 77; exits 1 when there is one.
scan() {
	awk '
	function report() {
		printf "%s:%d: a skip note that does not end the test with exit 77: %s\n", file, line, text
		bad = 1
	}
	FNR == 1 { if (pending) report(); pending = 0; cont = 0; file = FILENAME }
	{
		s = $0
		if (cont) { cont = (s ~ /\\$/); if (s ~ /exit 77/) pending = 0; next }
		if (pending) {
			if (s ~ /exit 77/) { pending = 0; next }
			if (s ~ /^[ \t]*(#|$)/ || s ~ /^[ \t]*(echo|printf)[ \t]/) {
				cont = (s ~ /\\$/)
				next
			}
			report(); pending = 0
		}
		if (s ~ /(^|[;{|&( \t])(echo|printf)[ \t]/ &&
		    tolower(s) ~ /(skip|not tried)/ && s !~ /exit 77/) {
			pending = 1; line = FNR; text = s
			sub(/^[ \t]+/, "", text)
			cont = (s ~ /\\$/)
		}
	}
	END { if (pending) report(); exit bad }' "$@"
}

if [ $# -gt 0 ]; then
	scan "$@"
	exit $?
fi

# The check must catch what it is for: t0320's old ending, "ok" without git.
T=$(mktemp -d "${TMPDIR:-/tmp}/check-skips.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
cat >"$T/old.sh" <<'OLD'
command -v git >/dev/null 2>&1 || { echo "ok - # SKIP git is not installed"; exit 0; }
git init -q repo
OLD
cat >"$T/part.sh" <<'OLD'
if command -v openssl >/dev/null 2>&1; then
	openssl version
else
	echo "# skipped the TLS checks: no openssl command (install openssl)"
fi
OLD
cat >"$T/good.sh" <<'GOOD'
skip() { echo "SKIP: $*"; exit 77; }
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: headless Chromium not found (install the Debian package" \
	     "'chromium')"
	exit 77
fi
GOOD
for f in old part; do
	if scan "$T/$f.sh" >"$T/out"; then
		echo "FAIL: check-skips.sh does not catch $f.sh:" >&2
		cat "$T/$f.sh" >&2
		exit 1
	fi
done
scan "$T/good.sh" >&2 || { echo "FAIL: check-skips.sh refuses a skip that exits 77" >&2; exit 1; }

files=$(ls "$top_srcdir"/tests/cli/*.sh "$top_srcdir"/tests/sandbox/*.sh \
	"$top_srcdir"/tests/sandbox/sandbox "$top_srcdir"/tests/faults/*.sh \
	"$top_srcdir"/tests/unit/*.sh "$top_srcdir"/tests/static/*.sh \
	"$top_srcdir"/tests/fuzz/*.sh "$top_srcdir"/tests/servers/*.sh \
	"$top_srcdir"/tests/lib.sh 2>/dev/null | grep -v '/tests/static/check-skips\.sh$')
if ! scan $files; then
	echo "FAIL: a test skips part of what it checks and may still pass; make that part a test of its own that exits 77 (docs/reliability.md)" >&2
	exit 1
fi
echo "ok - no test script prints a skip note and goes on ($(echo "$files" | wc -l) scripts)"
