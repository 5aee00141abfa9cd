#!/bin/sh
# t0600: one deploy at a time per (service, environment); stale locks.
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "slow"; action = "wait"; seconds = 300; log = "calls"; } );
CFG
echo 'stages = { slow = { action = "ok"; }; };' > profiles/production.cfg

"$top_builddir/gantry" deploy v1.0.0-rc.1 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"

run deploy v1.0.0-rc.2
expect_rc 6
expect_err "svc/staging is locked by deploy '"
expect_err "of tester on"
expect_err "since"
ok "a second deploy to the same environment exits 6 naming the holder"

run deploy v1.0.0 --approve
expect_rc 0
ok "another environment is not locked"

run lock staging
expect_rc 6
expect_out "staging: lock held by deploy"
run --json lock staging
[ "$(json_get "$TMP/out" 'd["state"]')" = "held" ] || fail "json held"
ok "lock ENV shows the holder"

run unlock staging
expect_rc 6
expect_err "not removed"
ok "unlock refuses to break a live deploy's lock"

# Kill the holder the hard way: its stage is told to stop (it exits
# within a second), and the lock it leaves behind is stale.
kill -9 "$bg"
wait "$bg" 2>/dev/null
BG_PIDS=""
lock_not_held() { gantry lock staging >/dev/null 2>&1; }
wait_until 60 "the dead holder's stage to end" lock_not_held
run lock staging
expect_rc 0
expect_out "STALE"
run status staging
expect_out "abandoned"
ok "a dead holder's lock is reported stale; its deploy shows as abandoned"

rm -f calls
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "quick"; log = "calls"; } );
CFG
run deploy v1.0.0-rc.3
expect_rc 0
expect_err "took over a stale lock of svc/staging"
ok "the next deploy takes a stale lock over"

run unlock staging
expect_rc 0
expect_out "staging: lock free"
ok "unlock of a free lock is fine"

# --json on a locked deploy still prints one document.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "slow"; action = "wait"; seconds = 300; log = "calls"; } );
CFG
rm -f calls
"$top_builddir/gantry" deploy v1.0.0-rc.4 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
run --json deploy v1.0.0-rc.5
expect_rc 6
[ "$(json_get "$TMP/out" 'd["exit_code"]')" = "6" ] || fail "json locked document"
kill -TERM "$bg"
wait "$bg"
BG_PIDS=""
ok "--json deploy refused by the lock prints one JSON document"
