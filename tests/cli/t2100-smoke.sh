#!/bin/sh
# t2100: the smoke stage against tests/servers/httpd.py: status, body and
# JSON expectations, retries, timeouts, refused connections, redirects
# (not followed), insecure in production, consecutive passes, latency
# budget, mark-failed, plan.  (TLS with a private CA: t2110.)
. "$top_srcdir/tests/lib.sh"

. "$top_srcdir/tests/cli/lib-smoke.sh"

start_httpd web --script script.json
WEB=$PORT
BASE="http://127.0.0.1:$WEB"

smoke_cfg "checks = ( { url = \"$BASE/healthz\"; expect_body = \"ok\";
  expect_json = { version = \"\${release.version}\"; build = { commit = \"abc\"; }; };
  headers = { X-Probe = \"gantry\"; }; } );"
run deploy v0.1.0-rc.1
expect_rc 0 "healthy"
expect_err "GET $BASE/healthz: attempt 1/10: 200 version \"0.1.0-rc.1\" build.commit \"abc\""
rec=$(last_record)
lat=$(json_get "$rec" 'd["stages"][0]["outputs"]["smoke.latency_ms"]')
[ "$lat" -ge 0 ] 2>/dev/null || fail "smoke.latency_ms published: '$lat'"
captured "$WEB"
[ "$(json_get "$TMP/cap.json" 'd[-1]["headers"]["x-probe"]')" = "gantry" ] || fail "header sent"
ok "a healthy check passes, matches nested JSON with \${release.version}, sends headers, publishes smoke.latency_ms"

run plan v0.1.0-rc.1
expect_rc 0
expect_err "GET $BASE/healthz: expect 200, body containing \"ok\", version = \"0.1.0-rc.1\", build.commit = \"abc\""
expect_err "headers X-Probe"
before=$(count "$WEB" /healthz)
[ "$before" = 1 ] || fail "plan made a request ($before captured)"
ok "plan describes each check and sends nothing"

smoke_cfg "url = \"$BASE/flaky\";"
run deploy v0.1.0-rc.2
expect_rc 0 "flaky"
[ "$(count "$WEB" /flaky)" = 3 ] || fail "flaky: expected 3 requests"
expect_err "attempt 1/10: 503"
expect_err "attempt 3/10: 200"
ok "503, 503 then 200: retried until it passes (3 requests)"

smoke_cfg "attempts = 3; checks = ( { url = \"$BASE/old\"; expect_json = { version = \"\${release.version}\"; }; } );"
run deploy v0.1.0-rc.1
expect_rc 1 "wrong version"
expect_err "check '$BASE/old' failed after 3 attempts: 200 version \"0.0.9\", expected \"0.1.0-rc.1\" ("
[ "$(count "$WEB" /old)" = 3 ] || fail "old: expected 3 requests"
[ "$(json_get "$(last_record)" 'd["result"]')" = "failed" ] || fail "journal result failed"
ok "the old version answering fails with the value that answered"

smoke_cfg "attempts = 1; checks = ( { url = \"$BASE/slow\"; timeout = 1; } );"
run deploy v0.1.0-rc.1
expect_rc 1 "slow"
expect_err "check '$BASE/slow' failed after 1 attempt: no answer within 1000 ms (timeout)"
ok "an answer slower than the check's timeout fails as a timeout"

write_cfg <<CFG
pipeline = ( { stage = "smoke"; interval = 0; timeout = 2; checks = ( { url = "$BASE/slow"; timeout = 30; } ); } );
CFG
run deploy v0.1.0-rc.1
expect_rc 1 "stage timeout"
expect_err "smoke checks did not pass within the stage's timeout of 2 s: check '$BASE/slow' failed after 1 attempt: no answer within "
[ "$(json_get "$(last_record)" 'd["result"]')" = "timed_out" ] || fail "journal result timed_out"
ok "the entry's timeout bounds every request and the whole stage (result timed_out)"

start_httpd dead
DEAD=$PORT
kill "$HTTPD_PID"
wait "$HTTPD_PID" 2>/dev/null
smoke_cfg "attempts = 2; url = \"http://127.0.0.1:$DEAD/healthz\";"
run deploy v0.1.0-rc.1
expect_rc 1 "refused"
expect_err "failed after 2 attempts: connection refused (x2)"
ok "a dead port fails with connection refused"

write_cfg <<CFG
pipeline = ( { stage = "smoke"; attempts = 100; interval = 1; url = "http://127.0.0.1:$DEAD/healthz"; } );
CFG
"$top_builddir/gantry" deploy v0.1.0-rc.1 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$BG_PIDS $bg"
wait_for "$TMP/bg.err" "attempt 2/100"
# The last attempt logged before the signal (not "no attempt 5": on a
# busy machine attempts 3 and 4 may come before the signal does).
seen=$(sed -n 's|.*attempt \([0-9]*\)/100.*|\1|p' "$TMP/bg.err" | tail -n 1)
kill -INT "$bg"
wait "$bg"
rc=$?
cp "$TMP/bg.err" "$TMP/err"
expect_rc 130 "interrupted"
expect_err "smoke checks interrupted after"
expect_no_err "attempt $((seen + 2))/100"
[ "$(json_get "$(last_record)" 'd["result"]')" = "interrupted" ] || fail "journal result interrupted"
ok "SIGINT stops the retries at once (exit 130)"

smoke_cfg "attempts = 2; checks = ( { url = \"$BASE/moved\"; } );"
run deploy v0.1.0-rc.1
expect_rc 1 "redirect"
expect_err "302 (Location: /healthz)"
[ "$(count "$WEB" /healthz)" = 1 ] || fail "the redirect was followed"
ok "redirects are not followed: a 302 fails a 200 expectation, showing its Location"

smoke_cfg "attempts = 4; consecutive = 2; url = \"$BASE/wobbly\";"
run deploy v0.1.0-rc.1
expect_rc 0 "consecutive"
[ "$(count "$WEB" /wobbly)" = 4 ] || fail "wobbly: expected 4 requests"
ok "consecutive = 2: a failure resets the count; passes after two in a row"

curl_reset() {
	python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
opener.open(urllib.request.Request(sys.argv[1], data=b"", method="POST"))' \
		"http://127.0.0.1:$1/_reset" || fail "cannot reset"
}
curl_reset "$WEB"
smoke_cfg "attempts = 3; consecutive = 2; url = \"$BASE/wobbly\";"
run deploy v0.1.0-rc.1
expect_rc 1 "consecutive not met"
expect_err "failed after 3 attempts (needs 2 passes in a row): 200 ("
ok "consecutive = 2 fails when no two passes in a row fit in the attempts"

smoke_cfg "latency_budget_ms = 100; url = \"$BASE/sluggish\";"
run deploy v0.1.0-rc.1
expect_rc 1 "latency budget"
expect_err "is over latency_budget_ms 100"
smoke_cfg "latency_budget_ms = 2000; url = \"$BASE/sluggish\";"
run deploy v0.1.0-rc.1
expect_rc 0 "within budget"
ok "latency_budget_ms: the p95 of the answers must be within it"

smoke_cfg "url = \"$BASE/healthz\"; expect_json = 1;"
run config check
expect_rc 2
expect_err "has no option 'expect_json'"
write_cfg <<CFG
pipeline = (
  { stage = "smoke"; interval = 0; attempts = 1; on_failure = "mark-failed";
    checks = ( { url = "$BASE/old"; expect_json = { version = "\${release.version}"; }; } ); }
);
CFG
run deploy v0.1.0-rc.1
expect_rc 1 "mark-failed"
[ "$(json_get "$(last_record)" 'd["result"]')" = "failed_deployed" ] || fail "mark-failed result"
ok "on_failure = mark-failed: exit 1, journal result failed_deployed"

before=$(count "$WEB" /healthz)
smoke_cfg "insecure = true; url = \"$BASE/healthz\";"
run deploy v0.1.0 --approve
expect_rc 1 "insecure production"
expect_err "insecure = true turns TLS verification off and is refused for production"
expect_err "insecure_production = true"
[ "$(count "$WEB" /healthz)" = "$before" ] || fail "a refused check sent a request"
smoke_cfg "insecure = true; insecure_production = true; url = \"$BASE/healthz\";"
run deploy v0.1.1 --approve
expect_rc 0 "insecure_production"
ok "insecure is refused for production unless insecure_production = true"

smoke_cfg "attempts = 1;"
run deploy v0.1.0-rc.1
expect_rc 1 "nothing to check"
expect_err "has nothing to check; set url or checks"
ok "a smoke entry without url or checks is a configuration error"
