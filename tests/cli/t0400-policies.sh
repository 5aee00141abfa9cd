#!/bin/sh
# t0400: on_failure policies, rollback order, exit codes 1/3/4, notifiers.
. "$top_srcdir/tests/lib.sh"

# pipeline A(ok, publishes) B(ok) C(fails with POLICY) D(never runs)
pipeline() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "a"; log = "calls"; outputs = ["a.out=from-a"]; },
  { stage = "tfix"; name = "b"; log = "calls"; rollback_action = "${RB_B:-ok}"; },
  { stage = "tfix"; name = "c"; log = "calls"; action = "${ACTION:-fail}"; on_failure = "$1"; },
  { stage = "tfix"; name = "d"; log = "calls"; }
);
notify = ( { plugin = "tnotify"; file = "events"; events = ["start", "success", "failure", "rolled_back", "timed_out", "interrupted", "stage.failed"]; },
           { plugin = "tnotify"; name = "broken"; file = "events2"; fail = true; } );
CFG
	rm -f calls events events2
}

pipeline abort
run deploy v1.0.0-rc.1
expect_rc 1
[ "$(cat calls)" = "a run ok
b run ok
c run fail" ] || fail "abort calls: $(cat calls)"
[ "$(json_get "$(last_record)" 'd["result"]')" = "failed" ] || fail "result failed"
[ "$(json_get "$(last_record)" 'd["failed_stage"]')" = "c" ] || fail "failed_stage"
expect_file_has events "deploy.failed stage=c result=failed exit=1 service=svc version=1.0.0-rc.1 reason=told to fail (no token)"
expect_file_has events "stage.failed stage=c"
expect_file_has events2 "deploy.failed"
expect_err "notifier 'broken' failed on deploy.failed (the deploy is not affected)"
ok "abort: later stages do not run; exit 1; notifiers get the final event; a failing notifier changes nothing"

pipeline rollback
run deploy v1.0.0-rc.2
expect_rc 3
[ "$(cat calls)" = "a run ok
b run ok
c run fail
b rollback 
a rollback from-a" ] || fail "rollback calls: $(cat calls)"
[ "$(json_get "$(last_record)" 'd["result"]')" = "rolled_back" ] || fail "result rolled_back"
[ "$(json_get "$(last_record)" '[s["status"] for s in d["stages"]]')" = "['rolled_back', 'rolled_back', 'failed', 'pending']" ] || fail "statuses"
expect_file_has events "deploy.rolled_back stage=c result=rolled_back exit=3"
ok "rollback: completed stages rolled back newest first, seeing their outputs; exit 3"

RB_B=fail pipeline rollback
run deploy v1.0.0-rc.3
expect_rc 4
expect_err "rollback of 'b' failed: rollback told to fail"
[ "$(json_get "$(last_record)" 'd["result"]')" = "rollback_failed" ] || fail "result"
[ "$(json_get "$(last_record)" 'd["stages"][1]["status"]')" = "rollback_failed" ] || fail "b status"
expect_file_has events "deploy.failed stage=c result=rollback_failed exit=4"
ok "a failing rollback exits 4"

pipeline rollback
run deploy v1.0.0-rc.4 --no-rollback
expect_rc 1
expect_file_lacks calls "rollback"
ok "--no-rollback turns rollback into abort"

pipeline mark-failed
run deploy v1.0.0-rc.5
expect_rc 1
[ "$(json_get "$(last_record)" 'd["result"]')" = "failed_deployed" ] || fail "mark-failed result"
expect_file_lacks calls "d run"
ok "mark-failed: recorded as failed-but-deployed, exit 1"

pipeline continue
run deploy v1.0.0-rc.6
expect_rc 0
expect_file_has calls "d run ok"
[ "$(json_get "$(last_record)" 'd["stages"][2]["status"]')" = "failed" ] || fail "c failed recorded"
ok "continue: the failure is recorded and the pipeline goes on"

ACTION=rolled-back pipeline abort
run deploy v1.0.0-rc.7
expect_rc 3
[ "$(json_get "$(last_record)" 'd["result"]')" = "rolled_back" ] || fail "stage rolled back"
expect_file_has events "deploy.rolled_back stage=c"
ok "a stage reporting its own rollback (ECS rolled back) is a failure with exit 3, not a success"

ACTION=rollback-failed pipeline abort
run deploy v1.0.0-rc.8
expect_rc 4
ok "a stage reporting a failed recovery exits 4"

ACTION=ok pipeline abort
run deploy v1.0.0-rc.9
expect_rc 0
expect_file_has events "deploy.succeeded stage=- result=succeeded exit=0"
expect_file_has events "deploy.started"
expect_file_lacks events "stage.failed"
ok "success: notifiers get start and success"
