#!/bin/sh
# t0500: a stage that crashes or hangs fails that stage only.
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "boom"; action = "crash"; log = "calls"; },
  { stage = "tfix"; name = "after"; log = "calls"; }
);
notify = ( { plugin = "tnotify"; file = "events"; } );
CFG
run deploy v1.0.0-rc.1
expect_rc 1
expect_err "stage 'boom': crashed in run with signal 11 (Segmentation fault); this is a bug in plugin '$PLUGINS/tfix.so'"
[ "$(json_get "$(last_record)" 'd["stages"][0]["status"]')" = "failed" ] || fail "crash recorded"
expect_file_lacks calls "after run"
expect_file_has events "deploy.failed stage=boom"
run lock staging
expect_rc 0
expect_out "lock free"
ok "a crashing stage fails the deploy, not gantry; lock released, journal and notifiers told"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "abrt"; action = "abort"; } );
CFG
run deploy v1.0.0-rc.2
expect_rc 1
expect_err "crashed in run with signal 6"
ok "abort() in a stage is contained"

KILL_GRACE=1 write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "wedged"; action = "hang"; timeout = 1; } );
CFG
start=$(date +%s)
run deploy v1.0.0-rc.3
end=$(date +%s)
expect_rc 1
[ "$(json_get "$(last_record)" 'd["result"]')" = "timed_out" ] || fail "timed_out result"
expect_err "stage 'wedged': still running 1 s after its 1 s timeout; killed"
[ "$(json_get "$(last_record)" 'd["stages"][0]["status"]')" = "timed_out" ] || fail "timed_out status"
[ $((end - start)) -lt 15 ] || fail "took $((end - start)) s"
ok "a hanging stage that ignores SIGTERM is killed after timeout + grace"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "early"; crash_in = "init"; } );
CFG
run deploy v1.0.0-rc.4
expect_rc 1
expect_err "stage 'early': crashed in init with signal 11"
ok "a crash in init is reported as such"
