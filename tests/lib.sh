# lib.sh - helpers for gantry's CLI tests (tests/cli/tNNNN-*.sh).
#
# Each test script sources this file, then runs checks in order; the first
# failed check ends the script with exit 1 (automake counts it as FAIL),
# exit 77 means SKIP.  Every test works in its own temporary directory and
# stops every process it started.
#
# A skip is always a whole test: a part that needs an optional tool or
# file is a test script of its own that calls skip (or need) before it
# checks anything; no test prints a skip note and goes on to pass
# (tests/static/check-skips.sh enforces it).

set -u

: "${top_srcdir:?run through make check}"
: "${top_builddir:?run through make check}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gantry-test.XXXXXX")
BG_PIDS=""
cleanup() {
	for p in $BG_PIDS; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Plugins the tests load: the built stages and the pipeline fixtures,
# copied so the directory holds nothing else and has safe permissions.
PLUGINS="$TMP/plugins"
mkdir -p "$PLUGINS"
chmod 755 "$PLUGINS"
for so in "$top_builddir"/plugins/.libs/*.so \
	  "$top_builddir"/contrib/.libs/*.so \
	  "$top_builddir"/tests/fixtures/pipeline/.libs/*.so; do
	[ -f "$so" ] && cp "$so" "$PLUGINS/" && chmod 644 "$PLUGINS/$(basename "$so")"
done
STATE="$TMP/state"
export GANTRY_PLUGIN_PATH="$PLUGINS"
export GANTRY_STATE_DIR="$STATE"
export GANTRY_ACTOR="tester"
unset NO_COLOR GITHUB_ACTOR 2>/dev/null || true
cd "$TMP" || exit 99

# gantry ARGS...: the built binary, under valgrind with GANTRY_VALGRIND=1.
# Every process (gantry and the forked stage processes) logs to its own
# file; any report there (an error or a definite leak) makes the call
# return 99, so a bug in a plugin callback fails the test too.
gantry() {
	if [ "${GANTRY_VALGRIND:-0}" = 1 ] && [ -n "${GANTRY_VALGRIND_BIN:-}" ]; then
		mkdir -p "$TMP/vg"
		rm -f "$TMP/vg"/*.log
		"$top_builddir/libtool" --mode=execute "$GANTRY_VALGRIND_BIN" \
			--quiet --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite \
			--show-leak-kinds=definite \
			--log-file="$TMP/vg/%p.log" \
			"$top_builddir/gantry" "$@"
		vg_rc=$?
		for log in "$TMP"/vg/*.log; do
			[ -s "$log" ] || continue
			echo "valgrind report ($log):" >&2
			cat "$log" >&2
			vg_rc=99
		done
		return $vg_rc
	else
		"$top_builddir/gantry" "$@"
	fi
}

# run ARGS...: runs gantry, stdout in $TMP/out, stderr in $TMP/err, exit in $rc.
run() {
	gantry "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

fail() {
	echo "FAIL: $*" >&2
	echo "--- stdout:" >&2; cat "$TMP/out" >&2 2>/dev/null
	echo "--- stderr:" >&2; cat "$TMP/err" >&2 2>/dev/null
	exit 1
}

ok() { echo "ok - $*"; }

# skip WHY: the whole test is skipped (exit 77, automake's SKIP); WHY says
# what is missing and how to install it.  Called before any check ran.
skip() { echo "SKIP: $*"; exit 77; }

# need COMMAND HOW: skips unless COMMAND is on PATH; HOW installs it.
need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed ($2)"
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "expected exit $1, got $rc${2:+ ($2)}"
}

# expect_err TEXT / expect_out TEXT: fixed-string match.
expect_err() { grep -qF -- "$1" "$TMP/err" || fail "stderr lacks: $1"; }
expect_out() { grep -qF -- "$1" "$TMP/out" || fail "stdout lacks: $1"; }
expect_no_err() { ! grep -qF -- "$1" "$TMP/err" || fail "stderr has: $1"; }
expect_no_out() { ! grep -qF -- "$1" "$TMP/out" || fail "stdout has: $1"; }
expect_file_has() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$1 lacks: $2"; }; }
expect_file_lacks() { ! grep -qF -- "$2" "$1" || fail "$1 has: $2"; }

# json_get FILE EXPR: evaluates a python expression on the parsed document d.
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# The newest journal record (by start time) as a path.
last_record() {
	python3 -c '
import glob, json, sys
recs = [(json.load(open(p))["started"], p) for p in glob.glob(sys.argv[1] + "/journal/*.json")]
print(max(recs)[1] if recs else "/nonexistent")' "$STATE"
}

# write_cfg: a gantry.cfg with two environments whose profiles are
# profiles/staging.cfg and profiles/production.cfg (created empty), and
# the pipeline given on stdin (libconfig list body).
write_cfg() {
	mkdir -p profiles
	[ -f profiles/staging.cfg ] || echo '# staging' > profiles/staging.cfg
	[ -f profiles/production.cfg ] || echo '# production' > profiles/production.cfg
	{
		echo 'service = "svc";'
		echo 'environments = ('
		echo '  { name = "staging"; tags = "v*-rc.*"; profile = "profiles/staging.cfg"; },'
		echo '  { name = "production"; tags = "v*"; profile = "profiles/production.cfg"; approval = true; }'
		echo ');'
		echo "kill_grace = ${KILL_GRACE:-60};"
		cat
	} > gantry.cfg
}

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.1 s until it
# succeeds; fails the test naming WHAT when SECONDS of wall time pass
# first.  Tests wait for an event this way (a file, a line, a state a
# command reports), never with a fixed sleep that a loaded machine can
# outrun; the deadline is only there so a broken run ends.
wait_until() {
	wu_end=$(( $(date +%s) + $1 ))
	wu_what=$2
	shift 2
	until "$@"; do
		[ "$(date +%s)" -lt "$wu_end" ] ||
			fail "timed out waiting for $wu_what"
		sleep 0.1
	done
}

# file_has FILE TEXT: FILE exists and contains TEXT (fixed string).
file_has() { grep -qF -- "$2" "$1" 2>/dev/null; }

# wait_for FILE PATTERN [SECONDS]: until FILE contains PATTERN (60 s).
wait_for() { wait_until "${3:-60}" "'$2' in $1" file_has "$1" "$2"; }

# start_httpd NAME [httpd.py options]: a capture server; its port in $PORT,
# its pid in $HTTPD_PID.
start_httpd() {
	name=$1
	shift
	rm -f "$TMP/$name.port"
	python3 "$top_srcdir/tests/servers/httpd.py" --port-file "$TMP/$name.port" \
		--parent-pid $$ --max-lifetime 120 "$@" 2>"$TMP/$name.log" &
	HTTPD_PID=$!
	BG_PIDS="$BG_PIDS $HTTPD_PID"
	sh_end=$(( $(date +%s) + 60 ))
	while [ ! -s "$TMP/$name.port" ]; do
		[ "$(date +%s)" -lt "$sh_end" ] ||
			{ cat "$TMP/$name.log" >&2; fail "httpd $name did not start"; }
		sleep 0.1
	done
	PORT=$(cat "$TMP/$name.port")
}

# realworld_dir: the shared collection of real-world files no one here
# wrote: GANTRY_REALWORLD when it is set (and nothing when that is not a
# directory, so GANTRY_REALWORLD=/nonexistent hides the collection), else
# shared/realworld beside the checkout, as CI lays it out, else the
# workplace's copy; prints nothing without one.
realworld_dir() {
	if [ -n "${GANTRY_REALWORLD:-}" ]; then
		[ -d "$GANTRY_REALWORLD" ] && echo "$GANTRY_REALWORLD"
		return
	fi
	for d in "$top_srcdir/../shared/realworld" /work/shared/realworld; do
		[ -d "$d" ] && { echo "$d"; return; }
	done
}

# need_realworld SUBDIR: $RW is SUBDIR of the real-world collection; the
# test skips when there is none.
need_realworld() {
	RW=$(realworld_dir)
	[ -n "$RW" ] && [ -d "$RW/$1" ] && { RW=$RW/$1; return; }
	skip "the real-world files $1/ are missing (looked in ${GANTRY_REALWORLD:-$top_srcdir/../shared/realworld and /work/shared/realworld}); set GANTRY_REALWORLD to a copy of the shared realworld collection"
}

# sandbox_start [OPTION...]: starts the local AWS sandbox in $SB
# ($TMP/sb), owned by this test (stopped when it exits, or when this shell
# is gone), and reads its env.sh.  OPTIONs go to `sandbox start`
# (--no-registry, --time-scale N).  A start that fails fails the test.
sandbox_start() {
	SB="$TMP/sb"
	trap '"$top_srcdir/tests/sandbox/sandbox" stop "$SB" 2>/dev/null; cleanup' EXIT
	"$top_srcdir/tests/sandbox/sandbox" start "$SB" "$@" --parent-pid $$ \
		--max-lifetime 600 >"$TMP/sb.out" 2>&1 ||
		{ cat "$TMP/sb.out" >&2; fail "cannot start the sandbox"; }
	. "$SB/env.sh"
}
