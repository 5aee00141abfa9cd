#!/bin/sh
# t0310: live status lines (gantry_status).  On a terminal a stage's status
# is drawn in place and erased by the next log line and at the stage's end,
# so the screen ends with log lines only, and a status never wraps;
# off a terminal (a pipe, TERM=dumb, --quiet) no status byte is written.
. "$top_srcdir/tests/lib.sh"

PTY="$top_srcdir/tests/pty-run.py"
SECRET="st4tus-s3cret-value"
export TFIX_TOKEN="$SECRET"
write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "build"; action = "status";
    token = "${secret:env:TFIX_TOKEN}"; }
);
CFG

# pty_run ARGS...: gantry on a 40-column terminal; raw bytes in $TMP/tty,
# the final screen in $TMP/tty.screen, exit code in $rc.
pty_run() {
	TERM=xterm python3 "$PTY" --render 40 "$TMP/tty" \
		"$top_builddir/gantry" "$@" </dev/null
	rc=$?
}

pty_run --no-color deploy v1.0.0-rc.1
[ "$rc" = 0 ] || fail "deploy on a terminal: exit $rc; $(cat "$TMP/tty")"
grep -qF "$(printf '\r\033[K  [build] step 1 of 3 ***')" "$TMP/tty" ||
	fail "no redacted status line drawn in place: $(od -c "$TMP/tty" | head -40)"
grep -qF "step 2 of 3 second line" "$TMP/tty" ||
	fail "a newline in a status was not flattened"
! grep -qF "$SECRET" "$TMP/tty" || fail "the secret reached the terminal"
grep -qx "  \[build\] a log line" "$TMP/tty.screen" ||
	fail "the log line is not on the screen whole: $(cat "$TMP/tty.screen")"
grep -q "\[1/1\] build succeeded" "$TMP/tty.screen" ||
	fail "the stage's end is not on the screen: $(cat "$TMP/tty.screen")"
! grep -q "step [0-9] of 3" "$TMP/tty.screen" ||
	fail "a status line was left on the screen: $(cat "$TMP/tty.screen")"
# The too-wide status was cut to 39 columns, not wrapped.
grep -qF "$(printf '\r\033[K  [build] step 3 of 3 ................')" "$TMP/tty" ||
	fail "the wide status was not drawn"
python3 - "$TMP/tty" <<'PY' || fail "the wide status was not cut to 39 columns"
import sys
data = open(sys.argv[1], 'rb').read().decode()
st = [s for s in data.split('\r\x1b[K') if s.startswith('  [build] step 3')][0]
sys.exit(0 if len(st.split('\r')[0]) == 39 else 1)
PY
ok "on a terminal: status lines drawn in place, redacted, cut to the width, erased at the end"

run deploy v1.0.0-rc.2
expect_rc 0
expect_err "[build] a log line"
expect_no_err "step 1 of 3"
grep -q "$(printf '\033')" "$TMP/err" && fail "escape sequences off a terminal"
ok "off a terminal no status is written"

TERM=dumb python3 "$PTY" --render 40 "$TMP/tty" "$top_builddir/gantry" \
	--no-color deploy v1.0.0-rc.3 </dev/null
[ $? = 0 ] || fail "deploy with TERM=dumb"
! grep -q "step 1 of 3" "$TMP/tty" || fail "a status on a dumb terminal"
pty_run --quiet deploy v1.0.0-rc.4
[ "$rc" = 0 ] || fail "deploy --quiet"
! grep -q "step 1 of 3" "$TMP/tty" || fail "a status with --quiet"
ok "TERM=dumb and --quiet: no status"
