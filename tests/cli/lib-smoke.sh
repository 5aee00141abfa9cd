# lib-smoke.sh - what the smoke stage's tests (t2100, t2110) share: no
# proxy, the capture server's script (script.json), captured, count and
# smoke_cfg.  Sourced after lib.sh.

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# captured PORT: the server's captured requests, in $TMP/cap.json.
captured() {
	python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
sys.stdout.write(opener.open(sys.argv[1]).read().decode())' \
		"http://127.0.0.1:$1/_captured" >"$TMP/cap.json" || fail "cannot read captures"
}

# count PORT PATH: how many requests the server saw for PATH.
count() {
	captured "$1"
	json_get "$TMP/cap.json" "len([r for r in d if r['path'] == '$2'])"
}

cat >script.json <<'EOF'
{"routes": {
  "/healthz": [{"status": 200, "body": {"status": "ok", "version": "0.1.0-rc.1", "build": {"commit": "abc"}}}],
  "/flaky": [{"status": 503}, {"status": 503}, {"status": 200, "body": "ok"}],
  "/old": [{"status": 200, "body": {"version": "0.0.9"}}],
  "/slow": [{"status": 200, "body": "ok", "delay_ms": 3000}],
  "/moved": [{"status": 302, "headers": {"Location": "/healthz"}}],
  "/wobbly": [{"status": 200}, {"status": 503}, {"status": 200}, {"status": 200}],
  "/sluggish": [{"status": 200, "body": "ok", "delay_ms": 300}]
}}
EOF
# smoke_cfg ENTRY-OPTIONS: a pipeline of one smoke entry.
smoke_cfg() {
	write_cfg <<CFG
pipeline = ( { stage = "smoke"; interval = 0; $1 } );
CFG
}
