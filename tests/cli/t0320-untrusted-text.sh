#!/bin/sh
# t0320: text from outside (actors, tags, stage output, journal fields)
# is valid UTF-8 in every JSON document gantry writes, and reaches the
# terminal with its control characters neutralised: a stage cannot draw
# over gantry's lines or forge a `history` row.  (Tag annotations, read
# with git: t0321.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/cli/lib-untrusted-text.sh"

write_cfg <<'CFG'
pipeline = (
  { stage = "exec"; name = "show";
    command = ["sh", "-c", "printf '\\r\\033[2K2026-12-01 00:00:00Z production v9.9.9 succeeded\\n'; printf 'c1 \\302\\233 bad \\377 end\\n'"]; }
);
CFG

GANTRY_ACTOR=$(printf '\377\376') run deploy v1.0.0-rc.1
expect_rc 0
parses "$(last_record)" || fail "the journal record is not valid UTF-8 JSON"
[ "$(json_get "$(last_record)" 'd["actor"] == "\ufffd\ufffd"')" = True ] ||
	fail "actor: $(json_get "$(last_record)" 'repr(d["actor"])')"
ok "an actor that is not UTF-8 is journalled as U+FFFD, valid JSON"

run --json history
expect_rc 0
parses "$TMP/out" || fail "--json history is not valid UTF-8 JSON"
no_raw_controls "$TMP/out"
ok "--json history of that record is valid JSON"

GANTRY_ACTOR=$(printf '\377\376') run --json deploy v1.0.0-rc.2
expect_rc 0
parses "$TMP/out" || fail "--json deploy is not valid UTF-8 JSON"
ok "--json deploy with such an actor is valid JSON"

run deploy v1.0.0-rc.3
expect_rc 0
no_raw_controls "$TMP/err"
expect_err '\x1b[2K2026-12-01'
ok "escape sequences and C1 controls in stage output are shown, not obeyed"

# An actor with control characters is refused (t0150); one that reached
# the journal some other way (an older gantry, a forged record) is shown
# neutralised.
GANTRY_ACTOR="evil${CR}${ESC}[2Kv0" run deploy v1.0.0-rc.4
expect_rc 2
no_raw_controls "$TMP/err"
run deploy v1.0.0-rc.4
expect_rc 0
python3 - "$(last_record)" "evil${CR}${ESC}[2Kv0" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["actor"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"))
PY
run history
expect_rc 0
no_raw_controls "$TMP/out"
expect_out 'evil\x0d\x1b[2Kv0'
run status staging
expect_rc 0
no_raw_controls "$TMP/out"
ok "control characters in an actor do not reach the terminal raw (deploy, history, status)"

# Such a tag is refused (t0120); the refusal quotes it neutralised.
run deploy "v1.0.0-rc.5${ESC}[2K"
expect_rc 2
no_raw_controls "$TMP/err"
expect_err "tag 'v1.0.0-rc.5\x1b[2K' is not a valid release tag"
run --json deploy "v1.0.0-rc.5${ESC}[2K"
parses "$TMP/out" || fail "--json deploy of such a tag is not JSON"
ok "an escape sequence in a tag does not reach stderr raw"

write_cfg <<'CFG'
pipeline = (
  { stage = "exec"; name = "show"; command = ["sh", "-c", "exit 3", "\x1b[2J\x1b]0;pwned\x07"]; }
);
CFG
run deploy v1.0.0-rc.6
expect_rc 1
no_raw_controls "$TMP/err"
expect_err '\x1b[2J\x1b]0;pwned\x07'
run report
expect_rc 0
no_raw_controls "$TMP/out"
run --json report
parses "$TMP/out" || fail "--json report is not valid UTF-8 JSON"
ok "a failure reason quoting control characters is shown, not obeyed (deploy, report)"
