#!/bin/sh
# t2200: the slack-notify notifier against tests/servers/httpd.py: webhook
# payloads for start, success and failure; 429 with Retry-After; a dead
# Slack never fails a deploy; secrets stay out of payloads, logs and the
# journal; the Web API posts one message and updates it.
. "$top_srcdir/tests/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
mkdir -p "$TMP/tmp"
TMPDIR="$TMP/tmp"
export TMPDIR

# httpd_call PORT METHOD PATH: a control request; its answer in $TMP/cap.json.
httpd_call() {
	python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
data = b"" if sys.argv[2] == "POST" else None
sys.stdout.write(opener.open(urllib.request.Request(sys.argv[1], data=data,
    method=sys.argv[2])).read().decode())' \
		"http://127.0.0.1:$1$3" "$2" >"$TMP/cap.json" || fail "httpd $3"
}

# caps EXPR: evaluates EXPR on the captured requests c (a list) and their
# bodies parsed as JSON, b (a list); prints the result.
caps() {
	httpd_call "$SLACK" GET /_captured
	python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
b = []
for r in c:
    try:
        b.append(json.loads(r["body"]))
    except ValueError:
        b.append(None)
def texts(m):
    """Every text of a Slack message, blocks included, as one string."""
    return json.dumps(m)
print(eval(sys.argv[2]))' "$TMP/cap.json" "$1"
}

check() {
	[ "$(caps "$1")" = True ] || { caps 'json.dumps(b, indent=1)' >&2; fail "$2"; }
}

# Everything a secret must never reach.
expect_nowhere() {
	expect_file_lacks "$TMP/err" "$1"
	expect_file_lacks "$TMP/out" "$1"
	for f in "$STATE"/journal/*.json; do
		expect_file_lacks "$f" "$1"
	done
	caps 'json.dumps(c)' >"$TMP/allcaps.json"
	python3 -c 'import json,sys; print(json.dumps([r["body"] for r in json.load(open(sys.argv[1]))]))' \
		"$TMP/allcaps.json" >"$TMP/bodies.json"
	expect_file_lacks "$TMP/bodies.json" "$1"
}

cat >slack.json <<'EOF'
{"routes": {
  "/services/T0/B0/hooktoken-abc123": [{"status": 200, "body": "ok"}],
  "/services/T0/B0/busy": [{"status": 429, "headers": {"Retry-After": "1"}, "body": "rate_limited"},
                           {"status": 200, "body": "ok"}],
  "/api/chat.postMessage": [{"status": 200, "body": {"ok": true, "channel": "C0123", "ts": "1700000000.000100"}}],
  "/api/chat.update": [{"status": 200, "body": {"ok": true, "channel": "C0123", "ts": "1700000000.000100"}}],
  "/bad/chat.postMessage": [{"status": 200, "body": {"ok": false, "error": "invalid_auth"}}]
}}
EOF
start_httpd slack --script slack.json
SLACK=$PORT
HOOK="http://127.0.0.1:$SLACK/services/T0/B0/hooktoken-abc123"
export GANTRY_T_SECRET="stage-secret-value-31"

# cfg ACTION NOTIFY-OPTIONS [EVENTS]: a pipeline of two fixture stages,
# the second doing ACTION, and one slack-notify entry.
cfg() {
	events=${3:-'"start", "success", "failure"'}
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "build"; outputs = ["release.commit=0123456789abcdef0123"]; },
  { stage = "tfix"; name = "smoke"; action = "$1"; token = "\${secret:env:GANTRY_T_SECRET}"; }
);
notify = ( { plugin = "slack-notify"; events = [$events]; $2 } );
CFG
	# The webhook URL and token are written in clear: the file must not
	# be readable by others (gantry refuses it otherwise).
	chmod 600 gantry.cfg
	httpd_call "$SLACK" POST /_reset
}

cfg ok "webhook_url = \"$HOOK\"; links = { Logs = \"https://logs.example/\${deploy.id}\"; };"
run deploy v1.0.0-rc.1
expect_rc 0 "success"
expect_no_err "notifier 'slack-notify' failed"
check 'len(c) == 2 and all(r["path"] == "/services/T0/B0/hooktoken-abc123" and r["method"] == "POST" for r in c)' "two webhook posts"
check 'c[0]["headers"]["content-type"].startswith("application/json")' "json content type"
check 'b[0]["text"] == "svc v1.0.0-rc.1 to staging: started"' "start text"
check 'b[1]["text"] == "svc v1.0.0-rc.1 to staging: succeeded"' "success text"
check 'b[1]["blocks"][0]["type"] == "header" and "succeeded" in b[1]["blocks"][0]["text"]["text"]' "header block"
check 'all(s in texts(b[1]) for s in ["*Service*\\nsvc", "*Environment*\\nstaging", "*Version*\\n1.0.0-rc.1", "*Actor*\\ntester", "*Commit*\\n`0123456789ab`", "*Outcome*\\n:white_check_mark: succeeded", "*Duration*"])' "success facts"
id=$(json_get "$(last_record)" 'd["id"]')
check "'<https://logs.example/$id|Logs>' in texts(b[1])" "links block"
check '"*Duration*" not in texts(b[0])' "no duration at start"
ok "webhook: start and success carry service, environment, version, actor, commit, duration, outcome and links"

cfg fail "webhook_url = \"$HOOK\"; mention_on_failure = \"<!subteam^S0123>\";"
run deploy v1.0.0-rc.2
expect_rc 1 "failure"
check 'len(c) == 2 and b[1]["text"] == "<!subteam^S0123> svc v1.0.0-rc.2 to staging: failed: stage '"'smoke'"': told to fail (***)"' "failure text"
check '"*Failed stage:* `smoke`" in texts(b[1]) and "*Reason:* told to fail (***)" in texts(b[1])' "failing stage and reason"
check '"<!subteam^S0123>\\n" in texts(b[1])' "mention in the failure block"
expect_nowhere stage-secret-value-31
expect_nowhere hooktoken-abc123
ok "failure: failing stage, redacted reason, mention; the stage's secret and the webhook URL are nowhere"

cfg ok "webhook_url = \"http://127.0.0.1:$SLACK/services/T0/B0/busy\";" '"success"'
run deploy v1.0.0-rc.3
expect_rc 0 "429"
expect_no_err "notifier 'slack-notify' failed"
check 'len(c) == 2 and all(r["path"] == "/services/T0/B0/busy" for r in c)' "429 then 200: two requests"
check 'b[0] == b[1] and b[1]["text"].endswith("succeeded")' "the same message retried"
ok "a 429 with Retry-After: 1 is retried and delivered"

start_httpd dead
DEAD=$PORT
kill "$HTTPD_PID"
wait "$HTTPD_PID" 2>/dev/null
cfg fail "webhook_url = \"http://127.0.0.1:$DEAD/services/T0/B0/deadtoken-xyz789\";"
run deploy v1.0.0-rc.4
expect_rc 1 "slack down, failing deploy keeps its code"
cfg ok "webhook_url = \"http://127.0.0.1:$DEAD/services/T0/B0/deadtoken-xyz789\";"
run deploy v1.0.0-rc.5
expect_rc 0 "slack down"
expect_err "notifier 'slack-notify' failed on deploy.started (the deploy is not affected): cannot deliver to the slack webhook"
expect_err "notifier 'slack-notify' failed on deploy.succeeded"
expect_nowhere deadtoken-xyz789
[ "$(json_get "$(last_record)" 'd["result"]')" = "succeeded" ] || fail "journal result"
ok "Slack unreachable: a warning, the deploy's result and exit code unchanged, the URL redacted"

cfg ok "token = \"xoxb-test-token-4242\"; channel = \"#deploys\"; api_url = \"http://127.0.0.1:$SLACK/api\";" \
	'"start", "stage.failed", "success"'
run deploy v1.0.0-rc.6
expect_rc 0 "web api"
expect_no_err "notifier 'slack-notify' failed"
check '[r["path"] for r in c] == ["/api/chat.postMessage", "/api/chat.update"]' "postMessage then update"
check 'all(r["headers"]["authorization"] == "Bearer xoxb-test-token-4242" for r in c)' "bearer token"
check 'b[0]["channel"] == "#deploys" and "ts" not in b[0]' "postMessage to the channel"
check 'b[1]["channel"] == "C0123" and b[1]["ts"] == "1700000000.000100"' "update of the same message"
check 'b[1]["text"].endswith("succeeded") and b[0]["text"].endswith("started")' "texts"
ls "$TMPDIR"/gantry-slack-* >/dev/null 2>&1 && fail "ts file left behind: $(ls "$TMPDIR")"
expect_nowhere xoxb-test-token-4242
ok "Web API: chat.postMessage, then chat.update of the same channel and ts; bearer token; ts file removed; token nowhere"

# The message's ts is kept between events in a private file.
cfg ok "token = \"xoxb-test-token-4242\"; channel = \"#deploys\"; api_url = \"http://127.0.0.1:$SLACK/api\";" '"start"'
run deploy v1.0.0-rc.7
expect_rc 0
ts=$(ls "$TMPDIR"/gantry-slack-*.ts 2>/dev/null)
[ -n "$ts" ] || fail "no ts file after a non-final event"
[ "$(stat -c %a "$ts")" = 600 ] || fail "ts file mode $(stat -c %a "$ts")"
grep -qx "C0123 1700000000.000100" "$ts" || fail "ts file: $(cat "$ts")"
rm -f "$ts"
ok "between events the channel and ts live in \$TMPDIR/gantry-slack-<id>-<entry>.ts, mode 0600"

cfg ok "token = \"xoxb-test-token-4242\"; channel = \"#deploys\"; api_url = \"http://127.0.0.1:$SLACK/bad\";" '"start"'
run deploy v1.0.0-rc.8
expect_rc 0 "web api error"
expect_err "slack chat.postMessage failed: invalid_auth; check option 'token'"
expect_nowhere xoxb-test-token-4242
ok "Web API {\"ok\": false} is a failure, reported as a warning"

cfg ok "token = \"xoxb-test-token-4242\"; webhook_url = \"$HOOK\";" '"start"'
run deploy v1.0.0-rc.9
expect_rc 0
expect_err "slack-notify needs either webhook_url (an incoming webhook) or token and channel (the Web API), not both"
ok "webhook_url and token together are refused (as a warning; the deploy goes on)"

run plugins show slack-notify
expect_rc 0
expect_out "webhook_url"
expect_out "mention_on_failure"
ok "plugins show documents the options"

# Untrusted text in the fallback `text` is escaped as in the blocks: no
# channel-wide ping, no disguised link, and the body is valid JSON.
write_cfg <<CFG
pipeline = (
  { stage = "exec"; name = "smoke"; command = ["sh", "-c", "exit 3", "<!channel> <https://evil|click> & $(printf '\377')"]; }
);
notify = ( { plugin = "slack-notify"; events = ["failure"]; webhook_url = "$HOOK"; } );
CFG
chmod 600 gantry.cfg
httpd_call "$SLACK" POST /_reset
# (A tag cannot carry markup: the core refuses such tags, t0120.)
run deploy v1.0.0-rc.10
expect_rc 1 "failure"
check 'len(c) == 1 and b[0] is not None' "one valid JSON body"
check '"&lt;!channel&gt; &lt;https://evil|click&gt; &amp;" in b[0]["text"]' "reason escaped in text"
check 'b[0]["text"].startswith("svc v1.0.0-rc.10 to staging: failed: stage '"'smoke'"': ")' "headline in text"
check '"<!channel>" not in texts(b[0]["blocks"][1:]) and "<!channel>" not in b[0]["text"]' "no raw markup in text and mrkdwn blocks"
ok "a failure reason with Slack markup arrives escaped in the fallback text and the blocks"
