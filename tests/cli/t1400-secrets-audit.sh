#!/bin/sh
# t1400: the secrets audit.  A full sandbox deploy, once succeeding and
# once failing (and rolled back), with a distinctive value in every
# secret source: ${secret:env:..}, ${secret:file:..}, ${secret:aws-sm:..},
# an assumed role's secret key and session token, the Slack webhook
# token and the Better Stack token (tests/cli/lib-secrets-audit.sh; the
# ECR registry password: t1410, a terraform sensitive output: t1420).
# Then every byte gantry wrote is searched: stdout, stderr, the journal
# and every file of the state directory, the notification payloads, its
# private TMPDIR, and - polled every 50 ms while the deploy runs - the
# argv of gantry and every descendant and every file in the state
# directory and TMPDIR at that instant.  Zero hits.  Also: a secret
# option written in clear into a config file others can read is refused;
# turning TLS verification off for production needs a per-stage flag,
# and the choice is journaled.
. "$top_srcdir/tests/lib.sh"

need curl "apt-get install curl"
need python3 "apt-get install python3"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# ----------------------------------------------- clear secrets in files
# (no sandbox needed: validation refuses before anything runs)
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "x"; token = "clear-token-value-1234"; } );
CFG
chmod 644 gantry.cfg
run config check staging
expect_rc 2 "clear secret at 0644 (config check)"
expect_err "gantry: error: gantry.cfg:7: option 'token' of stage 'x' holds a secret in clear in a file readable by group or others (mode 0644); use \${secret:env:NAME} or \${secret:file:PATH}, or chmod go-r gantry.cfg"
expect_no_err "clear-token-value-1234"
run deploy v1.0.0-rc.1
expect_rc 2 "clear secret at 0644 (deploy)"
expect_err "gantry.cfg:7: option 'token' of stage 'x' holds a secret in clear"
[ ! -d "$STATE/journal" ] || [ -z "$(ls "$STATE/journal")" ] || fail "a refused deploy wrote a journal record"
chmod 640 gantry.cfg
run plan v1.0.0-rc.1
expect_rc 2 "clear secret at 0640"
expect_err "(mode 0640)"
chmod 600 gantry.cfg
run deploy v1.0.0-rc.1
expect_rc 0 "clear secret at 0600"
expect_err "[x] token is ***"
ok "a secret option in clear: refused at 0644 and 0640 with file:line and the fix, accepted at 0600"

export T1400_CFG_TOKEN="cfg-env-token-5678"
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "x"; token = "${secret:env:T1400_CFG_TOKEN}"; } );
CFG
chmod 644 gantry.cfg
run deploy v1.0.0-rc.2
expect_rc 0 "\${secret:env:..} at 0644"
expect_no_err "cfg-env-token-5678"
ok "a \${secret:env:...} reference in a 0644 file is accepted"

# In the profile (its own file and line), and through an @include.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "x"; } );
CFG
printf '# staging\nstages = { x = {\n  token = "profile-clear-token-42"; }; };\n' > profiles/staging.cfg
chmod 644 profiles/staging.cfg
run plan v1.0.0-rc.1
expect_rc 2 "clear secret in a 0644 profile"
expect_err "gantry: error: $TMP/profiles/staging.cfg:3: option 'token' of stage 'x' holds a secret in clear in a file readable by group or others (mode 0644); use \${secret:env:NAME} or \${secret:file:PATH}, or chmod go-r $TMP/profiles/staging.cfg"
chmod 600 profiles/staging.cfg
run plan v1.0.0-rc.1
expect_rc 0 "clear secret in a 0600 profile"
printf 'token = "included-clear-token-77";\n' > profiles/token.inc
chmod 604 profiles/token.inc
printf '# staging\nstages = { x = {\n@include "token.inc"\n}; };\n' > profiles/staging.cfg
run plan v1.0.0-rc.1
expect_rc 2 "clear secret in a world-readable included file"
expect_err "gantry: error: $TMP/profiles/token.inc:1: option 'token' of stage 'x' holds a secret in clear in a file readable by group or others (mode 0604)"
chmod 600 profiles/token.inc
run plan v1.0.0-rc.1
expect_rc 0 "clear secret in a 0600 included file"
printf '# staging\n' > profiles/staging.cfg
ok "the profile and @included files are judged by their own mode, line and name"

# --------------------------------------------------- TLS off, journaled
printf '{"default": {"status": 200, "body": "ok"}}\n' >"$TMP/peer.json"
start_httpd peer --script "$TMP/peer.json" --max-lifetime 600
PEER=$PORT
# stage_out ENTRY KEY: the entry's output KEY in the newest record.
stage_out() {
	json_get "$(last_record)" "[s for s in d['stages'] if s['name'] == '$1'][0]['outputs'].get('$2', '(none)')"
}
write_cfg <<CFG
pipeline = ( { stage = "smoke"; url = "http://127.0.0.1:$PEER/healthz"; insecure = true; interval = 0; } );
CFG
run deploy v1.0.0-rc.3
expect_rc 0 "insecure smoke in staging"
expect_err "TLS verification is off (insecure = true)"
[ "$(stage_out smoke smoke.tls_verify)" = off ] || fail "smoke.tls_verify not journaled as off"
# (checked when the stage starts: exit 1, before any request)
run deploy v1.0.0 --approve
expect_rc 1 "insecure smoke in production without the flag"
expect_no_err "attempt 1/"
expect_err "gantry.cfg:7: insecure = true turns TLS verification off and is refused for production; give the CA with ca_file, or set insecure_production = true as well if you really mean it"
write_cfg <<CFG
pipeline = ( { stage = "smoke"; url = "http://127.0.0.1:$PEER/healthz"; insecure = true; insecure_production = true; interval = 0; } );
CFG
run deploy v1.0.1 --approve
expect_rc 0 "insecure smoke in production with the flag"
[ "$(stage_out smoke smoke.tls_verify)" = off ] || fail "smoke.tls_verify not journaled in production"
write_cfg <<CFG
pipeline = ( { stage = "smoke"; url = "http://127.0.0.1:$PEER/healthz"; interval = 0; } );
CFG
run deploy v1.0.2 --approve
expect_rc 0
[ "$(stage_out smoke smoke.tls_verify)" = on ] || fail "smoke.tls_verify not journaled as on"
ok "smoke: insecure refused for production without insecure_production; smoke.tls_verify (on/off) is journaled"

# ecr: a plain-HTTP registry sends the token in clear (no TLS at all).
write_cfg <<'CFG'
pipeline = ( { stage = "ecr"; registry = "http://127.0.0.1:1"; repository = "prod/app"; } );
CFG
run plan v1.0.0
expect_rc 1 "plain-HTTP registry in production"
expect_err "gantry.cfg:7: registry 'http://127.0.0.1:1' is plain HTTP (no TLS) and is refused for production; use \"https://host\" or a host name, or set insecure_production = true as well if you really mean it"
run plan v1.0.0-rc.1
expect_no_err "is refused for production"
write_cfg <<'CFG'
pipeline = ( { stage = "ecr"; registry = "http://127.0.0.1:1"; repository = "prod/app"; insecure_production = true; } );
CFG
run plan v1.0.0
expect_no_err "is refused for production"
ok "ecr: a plain-HTTP registry is refused for production unless insecure_production = true"

# ------------------------------------------------------- the full deploy
REGISTRY=0 TERRAFORM=0
. "$top_srcdir/tests/cli/lib-secrets-audit.sh"
audit_success
audit_failure
