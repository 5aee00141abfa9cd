# smoke.sh - the smoke stage's target: refused, too slow, 500, a body that
# is not JSON, a JSON document cut short.  Sourced by matrix.sh.

start_httpd smoke '{"routes": {
  "/slow": [{"status": 200, "body": "ok", "delay_ms": 3000}],
  "/boom": [{"status": 500, "body": "internal error"}],
  "/garbled": [{"status": 200, "body": "<html>{not json", "headers": {"Content-Type": "application/json"}}],
  "/cut": [{"status": 200, "body": "{\"status\": \"ok\", \"vers", "headers": {"Content-Type": "application/json"}}]
}}'
SMOKE="http://127.0.0.1:$PORT"
DEAD=$(free_port)

# smoke URL [OPTIONS]: prev, then a smoke check of URL sending the secret.
smoke() {
	cfg_stage "stage = \"smoke\"; interval = 0; attempts = 2; checks = ( { url = \"$1\"; headers = { Authorization = \"$SECRET_TOKEN\"; }; ${2:-} } );"
}

cell_begin smoke refused
smoke "http://127.0.0.1:$DEAD/healthz"
run deploy $TAG
cell_check 3 "stage 'smoke': check 'http://127.0.0.1:$DEAD/healthz' failed after 2 attempts: connection refused"

cell_begin smoke timeout
smoke "$SMOKE/slow" "timeout = 1;"
run deploy $TAG
cell_check 3 "failed after 2 attempts: no answer within 1000 ms (timeout)"

cell_begin smoke http-500
smoke "$SMOKE/boom"
run deploy $TAG
cell_check 3 "stage 'smoke': check '$SMOKE/boom' failed after 2 attempts: 500"

cell_begin smoke malformed
smoke "$SMOKE/garbled" "expect_json = { status = \"ok\"; };"
run deploy $TAG
cell_check 3 "stage 'smoke': check '$SMOKE/garbled' failed after 2 attempts"

cell_begin smoke truncated
smoke "$SMOKE/cut" "expect_json = { status = \"ok\"; };"
run deploy $TAG
cell_check 3 "stage 'smoke': check '$SMOKE/cut' failed after 2 attempts"
