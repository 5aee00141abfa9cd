#!/bin/sh
# t2300: the contrib betterstack-notify notifier against
# tests/servers/httpd.py: record fields, bearer token, the token never in
# logs or the journal, an unreachable or refusing source never fails a
# deploy.
. "$top_srcdir/tests/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# httpd_call METHOD PATH: a control request to the source; answer in $TMP/cap.json.
httpd_call() {
	python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
data = b"" if sys.argv[2] == "POST" else None
sys.stdout.write(opener.open(urllib.request.Request(sys.argv[1], data=data,
    method=sys.argv[2])).read().decode())' \
		"http://127.0.0.1:$BS$2" "$1" >"$TMP/cap.json" || fail "httpd $2"
}

# check EXPR MESSAGE: EXPR on captures c and parsed bodies b must be True.
check() {
	httpd_call GET /_captured
	r=$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
b = [json.loads(r["body"]) for r in c]
print(eval(sys.argv[2]))' "$TMP/cap.json" "$1")
	[ "$r" = True ] || { cat "$TMP/cap.json" >&2; fail "$2"; }
}

cat >bs.json <<'EOF'
{"routes": {
  "/ingest": [{"status": 202}],
  "/refuses": [{"status": 401, "body": "Unauthorized"}]
}}
EOF
start_httpd bs --script bs.json
BS=$PORT
export BS_TOKEN="bs-source-token-5150"

cfg() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "build"; },
  { stage = "tfix"; name = "deploy"; action = "$1"; }
);
notify = ( { plugin = "betterstack-notify"; events = ["start", "success", "failure"];
             url = "$2"; token = "\${secret:env:BS_TOKEN}"; } );
CFG
	httpd_call POST /_reset
}

cfg ok "http://127.0.0.1:$BS/ingest"
run deploy v2.0.0-rc.1
expect_rc 0
expect_no_err "notifier 'betterstack-notify' failed"
id=$(json_get "$(last_record)" 'd["id"]')
check 'len(c) == 2 and all(r["method"] == "POST" and r["path"] == "/ingest" for r in c)' "two records"
check 'all(r["headers"]["authorization"] == "Bearer bs-source-token-5150" for r in c)' "bearer token"
check 'all(r["headers"]["content-type"] == "application/json" for r in c)' "content type"
check '[x["event"] for x in b] == ["deploy.started", "deploy.succeeded"]' "events"
check "all(x['service'] == 'svc' and x['environment'] == 'staging' and x['version'] == '2.0.0-rc.1' and x['actor'] == 'tester' and x['deploy_id'] == '$id' for x in b)" "context fields"
check 'b[1]["result"] == "succeeded" and b[1]["stage"] is None and b[1]["reason"] is None and isinstance(b[1]["duration"], int)' "success fields"
check 'b[1]["message"] == "svc v2.0.0-rc.1 to staging: deploy.succeeded"' "message"
check 'all(x["dt"].endswith("Z") and x["dt"][4] == "-" and x["dt"][10] == "T" for x in b)' "dt is ISO 8601 UTC"
for f in "$TMP/err" "$TMP/out" "$STATE"/journal/*.json; do
	expect_file_lacks "$f" bs-source-token-5150
done
ok "each event is one JSON record with the deploy's fields, sent with the bearer token; the token is in no log or journal"

cfg fail "http://127.0.0.1:$BS/ingest"
run deploy v2.0.0-rc.2
expect_rc 1
check 'b[-1]["event"] == "deploy.failed" and b[-1]["result"] == "failed" and b[-1]["stage"] == "deploy" and b[-1]["reason"].startswith("told to fail") and b[-1]["exit_code"] == 1' "failure fields"
ok "a failure carries the failing stage, its reason and the exit code"

cfg ok "http://127.0.0.1:$BS/refuses"
run deploy v2.0.0-rc.3
expect_rc 0
expect_err "notifier 'betterstack-notify' failed on deploy.started (the deploy is not affected): Better Stack answered 401 'Unauthorized'; check option 'token'"
expect_no_err bs-source-token-5150
ok "a refusing source is a warning"

start_httpd dead
DEAD=$PORT
kill "$HTTPD_PID"
wait "$HTTPD_PID" 2>/dev/null
cfg ok "http://127.0.0.1:$DEAD/ingest"
run deploy v2.0.0-rc.4
expect_rc 0
expect_err "notifier 'betterstack-notify' failed on deploy.succeeded (the deploy is not affected): cannot deliver to Better Stack"
[ "$(json_get "$(last_record)" 'd["result"]')" = "succeeded" ] || fail "journal result"
for f in "$TMP/err" "$STATE"/journal/*.json; do
	expect_file_lacks "$f" bs-source-token-5150
done
ok "an unreachable source never fails the deploy"

write_cfg <<CFG
pipeline = ( { stage = "tfix"; name = "build"; } );
notify = ( { plugin = "betterstack-notify"; url = "http://127.0.0.1:$BS/ingest"; } );
CFG
run config check
expect_rc 2
expect_err "needs option 'token'"
ok "token is required"
