# slack.sh - Slack refused, rate-limiting for good, failing: the notifier
# warns, the deploy keeps its own result.  Sourced by matrix.sh.

start_httpd slack '{"routes": {
  "/services/T0/B0/busy": [{"status": 429, "headers": {"Retry-After": "0"}, "body": "rate_limited"}],
  "/services/T0/B0/boom": [{"status": 500, "body": "internal_error"}],
  "/services/T0/B0/garbled": [{"status": 200, "body": "{{{"}]
}}'
SLACK="http://127.0.0.1:$PORT"
DEAD=$(free_port)

# slack HOOK: prev, a fixture stage, and slack-notify posting to HOOK
# (a secret: it carries the webhook's token).
slack() {
	FAULT_HOOK=$1
	export FAULT_HOOK
	cfg_stage "stage = \"tfix\"; name = \"work\"; log = \"calls\";" \
		"{ plugin = \"slack-notify\"; events = [\"start\", \"success\", \"failure\"]; webhook_url = \"\${secret:env:FAULT_HOOK}\"; }"
}

for f in refused:http://127.0.0.1:$DEAD/services/T0/B0/dead \
	 http-429:$SLACK/services/T0/B0/busy \
	 http-500:$SLACK/services/T0/B0/boom; do
	cell_begin slack "${f%%:*}"
	slack "${f#*:}"
	run deploy $TAG
	ROLLBACK=no MAXERR=0
	cell_check 0 "~notifier 'slack-notify' failed on deploy.started (the deploy is not affected)"
done
