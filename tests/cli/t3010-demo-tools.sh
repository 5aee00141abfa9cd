#!/bin/sh
# t3010: the demo's and bench-progressive's helpers.  contrib/demo/loadgen.py
# counts answers per version (X-App-Version, else the body's first word)
# and status, counts a refused connection as a failed request, writes its
# summary on SIGTERM, stops when --parent-pid is gone, and refuses a
# target off 127.0.0.1 and bad numbers.  contrib/demo/ecs-call.py signs a
# call the sandbox's simulator accepts, says what AWS answered when it
# fails, and refuses an endpoint off 127.0.0.1 or missing credentials.
. "$top_srcdir/tests/lib.sh"
need python3 "apt-get install python3"
need curl "apt-get install curl"

LG="$top_srcdir/contrib/demo/loadgen.py"
EC="$top_srcdir/contrib/demo/ecs-call.py"
lg() { python3 "$LG" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
# jq FILE EXPR: a python expression on the JSON document d in FILE.
jq() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# ---- loadgen: bad arguments (exit 2, what is wrong)
lg --target 10.1.2.3:80 --max-seconds 1
expect_rc 2 "a target off 127.0.0.1"
expect_err "target '10.1.2.3:80' is not on 127.0.0.1: loadgen only loads the local sandbox"
lg --target 127.0.0.1 --max-seconds 1
expect_rc 2 "a target without a port"
expect_err "target '127.0.0.1' is not HOST:PORT"
lg --target 127.0.0.1:1 --rate 0
expect_rc 2 "rate 0"
expect_err "--rate 0 is not in (0, 1000]"
lg --target 127.0.0.1:1 --max-seconds -1
expect_rc 2 "negative --max-seconds"
expect_err "--max-seconds -1 is not in (0, 86400]"
lg --target 127.0.0.1:1 --path healthz
expect_rc 2 "a path without /"
expect_err "--path 'healthz' does not start with /"
(unset SANDBOX_PROD_LISTENER; python3 "$LG" >"$TMP/out" 2>"$TMP/err")
rc=$?
expect_rc 2 "no target"
expect_err "no --target and no SANDBOX_PROD_LISTENER"
ok "loadgen refuses targets off 127.0.0.1 and bad numbers (exit 2, says what)"

# ---- loadgen: counts per version and status
cat >"$TMP/script.json" <<'EOF'
{"routes": {"/": [{"status": 200, "body": "v1\n", "headers": {"X-App-Version": "v1"}},
                  {"status": 200, "body": "v1\n", "headers": {"X-App-Version": "v1"}},
                  {"status": 500, "body": "v2 broken\n"}]}}
EOF
start_httpd app --script "$TMP/script.json"
SANDBOX_PROD_LISTENER=127.0.0.1:$PORT python3 "$LG" --rate 50 --max-seconds 60 \
	--out "$TMP/load.json" --log "$TMP/load.log" --no-keep-alive 2>"$TMP/err" &
pid=$!
BG_PIDS="$BG_PIDS $pid"
enough() { [ -f "$TMP/load.log" ] && [ "$(wc -l <"$TMP/load.log")" -ge 10 ]; }
wait_until 30 "ten requests" enough
kill -TERM "$pid"
wait "$pid"
rc=$?
expect_rc 0 "loadgen after SIGTERM"
[ -s "$TMP/load.json" ] || fail "no summary after SIGTERM"
[ "$(jq "$TMP/load.json" 'd["by_version_status"]["v1"]')" = "{'200': 2}" ] ||
	fail "v1: $(jq "$TMP/load.json" 'd["by_version_status"]')"
[ "$(jq "$TMP/load.json" 'd["by_version_status"]["v2"]["500"] == d["requests"] - 2 == d["failed"]')" = True ] ||
	fail "v2 (the body's first word): $(jq "$TMP/load.json" 'd')"
[ "$(jq "$TMP/load.json" '(d["target"], d["keep_alive"], d["rate"])')" = "('127.0.0.1:$PORT', False, 50.0)" ] ||
	fail "the summary's settings: $(jq "$TMP/load.json" '(d["target"], d["keep_alive"], d["rate"])')"
[ "$(head -n 1 "$TMP/load.log" | cut -d' ' -f2-)" = "200 v1" ] || fail "log: $(head -n 3 "$TMP/load.log")"
captured=$(curl -s "http://127.0.0.1:$PORT/_captured" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$captured" = "$(jq "$TMP/load.json" 'd["requests"]')" ] ||
	fail "the server saw $captured requests, the summary says $(jq "$TMP/load.json" 'd["requests"]')"
ok "loadgen counts per version (header, else body) and status; SIGTERM writes the summary"

# ---- loadgen: no server: failed requests; --parent-pid gone: it stops
kill "$HTTPD_PID"
wait "$HTTPD_PID" 2>/dev/null
sleep 600 &
owner=$!
BG_PIDS="$BG_PIDS $owner"
python3 "$LG" --target "127.0.0.1:$PORT" --rate 20 --max-seconds 60 \
	--parent-pid "$owner" --out "$TMP/refused.json" --log "$TMP/refused.log" \
	2>"$TMP/err" &
pid=$!
BG_PIDS="$BG_PIDS $pid"
wait_for "$TMP/refused.log" " error -" 30
kill "$owner"
wait "$owner" 2>/dev/null
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 10 "loadgen to notice its parent is gone" gone
[ "$(jq "$TMP/refused.json" 'd["requests"] > 0 and d["failed"] == d["requests"] == d["by_status"]["error"] and d["by_version"] == {"-": d["requests"]}')" = True ] ||
	fail "refused: $(jq "$TMP/refused.json" 'd')"
jq "$TMP/refused.json" 'd["errors"]' | grep -q "ConnectionRefusedError" ||
	fail "errors: $(jq "$TMP/refused.json" 'd["errors"]')"
ok "loadgen counts refused connections as failed requests and stops when --parent-pid is gone"

# ---- ecs-call: bad arguments, then against the sandbox
AWSSIM_URL=http://10.1.2.3:80 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y \
	python3 "$EC" ListClusters >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 2 "an endpoint off 127.0.0.1"
expect_err "AWSSIM_URL 'http://10.1.2.3:80' is not the sandbox's (http://127.0.0.1:PORT)"
(unset AWS_ACCESS_KEY_ID; AWSSIM_URL=http://127.0.0.1:1 python3 "$EC" ListClusters) \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 2 "no credentials"
expect_err "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set"
AWSSIM_URL=http://127.0.0.1:1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y \
	python3 "$EC" ListClusters '{not json' >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 2 "a request that is not JSON"
expect_err "ecs-call.py: the request is not JSON"
ok "ecs-call refuses an endpoint off 127.0.0.1, missing credentials, a request that is not JSON (exit 2)"

sandbox_start --no-registry
python3 "$EC" CreateCluster '{"clusterName": "t3010"}' >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 0 "CreateCluster"
[ "$(jq "$TMP/out" 'd["cluster"]["clusterName"]')" = t3010 ] || fail "CreateCluster answered $(cat "$TMP/out")"
AWS_SECRET_ACCESS_KEY=wrong python3 "$EC" ListClusters >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 1 "a wrong secret"
expect_err "ecs-call.py: ListClusters failed: InvalidSignatureException"
ok "ecs-call's signature is accepted; an AWS error says its type (exit 1)"
