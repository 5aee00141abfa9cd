# lib-secrets-audit.sh - the audited deploy of the secrets audit (t1400;
# t1410 adds docker-build and ecr with the sandbox's registry, t1420 the
# terraform stage).  Set REGISTRY and TERRAFORM (0 or 1) before sourcing
# it: it starts the sandbox and the capture servers, gives every secret
# source a distinctive value, and defines audit_success and audit_failure,
# the two audited deploys.  Sourced after lib.sh.

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# Everything gantry and its stages write to temporary files goes here.
mkdir -p "$TMP/tmp"
chmod 700 "$TMP/tmp"
export TMPDIR="$TMP/tmp"

if [ $REGISTRY = 1 ]; then sandbox_start; else sandbox_start --no-registry; fi
[ $REGISTRY = 0 ] || [ -n "${SANDBOX_REGISTRY:-}" ] || fail "the sandbox started without its registry"
export AWS_CONFIG_FILE="$TMP/none" AWS_SHARED_CREDENTIALS_FILE="$TMP/none"
unset AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

# The assumed role's credentials: the base identity assumes the staging
# deploy role, and gantry gets the temporary key, secret and token.
curl -sS -f --aws-sigv4 "aws:amz:ap-south-1:sts" \
	--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	-H 'Content-Type: application/x-www-form-urlencoded' \
	--data "Action=AssumeRole&Version=2011-06-15&RoleArn=$SANDBOX_STAGING_ROLE&RoleSessionName=t1400&ExternalId=gantry-staging" \
	"$AWSSIM_URL/" >"$TMP/assume.xml" || fail "AssumeRole failed"
creds() {
	python3 -c 'import re,sys; print(re.search("<%s>([^<]*)</%s>" % (sys.argv[2], sys.argv[2]), open(sys.argv[1]).read()).group(1))' "$TMP/assume.xml" "$1"
}
BASE_SECRET=$AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=$(creds AccessKeyId)
AWS_SECRET_ACCESS_KEY=$(creds SecretAccessKey)
AWS_SESSION_TOKEN=$(creds SessionToken)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
[ ${#AWS_SESSION_TOKEN} -gt 40 ] || fail "no session token from AssumeRole"

# The distinctive values, one per source.
S_ENV="t1400-env-Qx7rW2pLm"
S_FILE="t1400-file-Hk3vN8sZa"
S_SM="t1400-sm-Jd5tY1uBc"
S_HOOK="t1400-hook-Vn2qE6oFw"
S_BS="t1400-bs-Gr4mK9iPe"
S_TF="t1400-tf-Ls8wC3xDn"
export T1400_ENV="$S_ENV" T1400_HOOK_TOKEN="$S_HOOK"
printf '%s\n' "$S_FILE" > secret.txt
printf '%s\n' "$S_BS" > bs-token.txt
chmod 600 secret.txt bs-token.txt
curl -sS -f -X POST -H 'Content-Type: application/json' \
	--data "{\"account\": \"$SANDBOX_STAGING_ACCOUNT\", \"region\": \"ap-south-1\", \"name\": \"t1400/app\", \"value\": \"{\\\"api_key\\\": \\\"$S_SM\\\"}\"}" \
	"$AWSSIM_URL/_sim/secret" >/dev/null || fail "cannot create the Secrets Manager secret"

SECRETS="$TMP/secrets.list"
{
	printf '%s\n' "$S_ENV" "$S_FILE" "$S_SM" "$S_HOOK" "$S_BS" \
		"$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$BASE_SECRET"
	# a long token is found by any 40-byte piece of it, too
	printf '%s\n' "$AWS_SESSION_TOKEN" | cut -c 41-100
	[ $TERRAFORM = 0 ] || printf '%s\n' "$S_TF"
	if [ $REGISTRY = 1 ]; then
		printf '%s\n' "$SANDBOX_REGISTRY_PASSWORD"
		printf 'AWS:%s' "$SANDBOX_REGISTRY_PASSWORD" | base64 -w0
		echo
	fi
} > "$SECRETS"

# The Slack webhook and Better Stack capture server, and the peer the
# smoke check asks (/healthz passes, /down fails).
start_httpd hooks --max-lifetime 600
HOOKS=$PORT
cat >"$TMP/peer.json" <<'EOF'
{"routes": {"/healthz": [{"status": 200, "body": "ok"}],
            "/down": [{"status": 503, "body": "down"}],
            "/bs": [{"status": 202, "body": ""}]},
 "default": {"status": 200, "body": "ok"}}
EOF
start_httpd audit-peer --script "$TMP/peer.json" --max-lifetime 600
PEER=$PORT
hooks_call() {
	python3 -c '
import sys, urllib.request
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
d = b"" if sys.argv[2] == "POST" else None
sys.stdout.write(o.open(urllib.request.Request(sys.argv[1], data=d, method=sys.argv[2])).read().decode())' \
		"http://127.0.0.1:$1$3" "$2"
}

if [ $REGISTRY = 1 ]; then
	STORE="$TMP/store"
	export XDG_CACHE_HOME="$TMP/cache"
	mkdir -p app
	cp "$top_srcdir"/tests/fixtures/image/Dockerfile \
	   "$top_srcdir"/tests/fixtures/image/message.txt app/
	cp /bin/busybox app/busybox
	BUILD="{ stage = \"docker-build\"; name = \"build\"; context = \"app\"; storage = \"$STORE\"; },
  { stage = \"ecr\"; repository = \"staging/t1400\"; create_repository = true; immutable = false; },"
else
	BUILD=""
fi
if [ $TERRAFORM = 1 ]; then
	rm -rf infra
	cp -R "$top_srcdir/tests/fixtures/terraform/basic" infra && chmod -R u+w infra
	export T1400_TF="$S_TF"
	TF="{ stage = \"terraform\"; dir = \"infra\"; workspace = \"default\"; allow_destroy = true;
    vars = { image_tag = \"v1\"; replica_note = \"\${secret:env:T1400_TF}\"; }; },
  { stage = \"exec\"; name = \"tf-check\"; command = [\"sh\", \"-c\", \"echo \\\"pw \$PW\\\"\"];
    env = { PW = \"\${terraform.outputs.db_password}\"; }; },"
else
	TF=""
fi

# deploy_cfg SMOKE_PATH: the pipeline, its smoke check asking SMOKE_PATH.
deploy_cfg() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "release"; token = "\${secret:env:T1400_ENV}";
    message = "file secret \${secret:file:secret.txt}"; outputs = ["release.commit=0123456789abcdef0123"]; },
  $BUILD
  $TF
  { stage = "exec"; name = "tests";
    command = ["sh", "-c", "i=0; while [ ! -e \"\$SEEN\" ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done; echo \"saw \$A \$B \$C\"; printf '%s|%s|%s' \"\$A\" \"\$B\" \"\$C\" > \"\$OUT\""];
    env = { A = "\${secret:env:T1400_ENV}"; B = "\${secret:file:secret.txt}";
            C = "\${secret:aws-sm:t1400/app#api_key}"; OUT = "$TMP/exec-saw.txt";
            SEEN = "$TMP/poll.report.seen"; }; },
  { stage = "smoke"; on_failure = "rollback"; attempts = 2; interval = 0;
    checks = ( { url = "http://127.0.0.1:$PEER/$1";
                 headers = { Authorization = "Bearer \${secret:aws-sm:t1400/app#api_key}"; }; } ); }
);
notify = (
  { plugin = "slack-notify"; events = ["start", "success", "failure", "rolled_back"];
    webhook_url = "http://127.0.0.1:$HOOKS/services/T0/B0/\${secret:env:T1400_HOOK_TOKEN}"; },
  { plugin = "betterstack-notify"; url = "http://127.0.0.1:$HOOKS/bs"; token = "\${secret:file:bs-token.txt}"; }
);
CFG
	chmod 644 gantry.cfg
	cat > profiles/staging.cfg <<CFG
aws = { region = "ap-south-1"; account_id = "$SANDBOX_STAGING_ACCOUNT"; endpoint_url = "$AWSSIM_URL"; };
CFG
}

# The poller: every 50 ms, the argv of the gantry process tree and every
# file under the state directory and TMPDIR, searched for the secrets.
# REPORT.ready says it has taken its first sample (gantry starts only
# then); REPORT.seen that it has taken 5 and seen the exec stage's
# command (which runs until then): a loaded machine slows the sampling,
# it cannot make the poller miss what the audit expects it to have seen.
cat >"$TMP/poll.py" <<'EOF'
import os, sys, time

root, secrets_file, report = int(sys.argv[1]), sys.argv[2], sys.argv[3]
dirs = sys.argv[4:]
secrets = [s.encode() for s in open(secrets_file).read().split("\n") if s]
hits, seen, samples, files, commands = set(), {}, 0, set(), set()

def state_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None, None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1])

def tree():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st, ppid = state_of(int(d))
            if ppid is not None:
                kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out

def check(what, data):
    for s in secrets:
        if s in data:
            hits.add("%s holds %s..." % (what, s[:12].decode(errors="replace")))

start = time.time()
deadline = start + 600
while time.time() < deadline:
    st, _ = state_of(root)
    if st is None or st == "Z":
        break
    samples += 1
    for pid in tree():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read()
        except OSError:
            continue
        if argv:
            seen[pid] = argv.split(b"\0")[0].decode(errors="replace")
            words = argv.split(b"\0")
            if len(words) > 1:
                commands.add(b" ".join(words[:2]).decode(errors="replace"))
            check("argv of pid %d (%s)" % (pid, argv.replace(b"\0", b" ")[:80].decode(errors="replace")), argv)
    for d in dirs:
        for base, _, names in os.walk(d):
            for n in names:
                p = os.path.join(base, n)
                try:
                    with open(p, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                files.add(p)
                check("file %s" % p, data)
    if samples == 1:
        open(report + ".ready", "w").close()
    if samples >= 5 and any(c.startswith("sh -c") for c in commands) and \
       not os.path.exists(report + ".seen"):
        open(report + ".seen", "w").close()
    time.sleep(0.05)
with open(report, "w") as f:
    f.write("samples %d\n" % samples)
    f.write("processes %s\n" % " ".join(sorted(set(os.path.basename(v) for v in seen.values()))))
    f.write("files %d\n" % len(files))
    f.write("took %.1f s\n" % (time.time() - start))
    for c in sorted(commands):
        f.write("command %s\n" % c)
    for h in sorted(hits):
        f.write("HIT %s\n" % h)
EOF

# audited_deploy TAG: gantry deploy TAG, watched by the poller.
audited_deploy() {
	hooks_call "$HOOKS" POST /_reset >/dev/null || fail "reset the capture server"
	rm -f "$TMP/poll.report" "$TMP/poll.report.ready" "$TMP/poll.report.seen" \
		"$TMP/exec-saw.txt"
	# (gantry waits for the poller's first sample, at most 60 s)
	( i=0
	  while [ ! -e "$TMP/poll.report.ready" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	  done
	  exec "$top_builddir/gantry" deploy "$1" >"$TMP/out" 2>"$TMP/err" ) &
	gpid=$!
	python3 "$TMP/poll.py" "$gpid" "$SECRETS" "$TMP/poll.report" "$STATE" "$TMPDIR" &
	ppid_=$!
	BG_PIDS="$BG_PIDS $ppid_"
	wait "$gpid"
	rc=$?
	wait "$ppid_"
}

# audit WHAT: zero hits anywhere gantry wrote.
audit() {
	[ -s "$TMP/poll.report" ] || fail "$1: the poller wrote no report"
	if grep -q '^HIT' "$TMP/poll.report"; then
		cat "$TMP/poll.report" >&2
		fail "$1: a secret was visible while the deploy ran"
	fi
	n=$(sed -n 's/^samples //p' "$TMP/poll.report")
	[ "$n" -ge 5 ] || fail "$1: only $n samples of the running deploy"
	grep -q '^processes .*gantry' "$TMP/poll.report" || fail "$1: the poller never saw gantry: $(cat "$TMP/poll.report")"
	grep -q '^command sh -c' "$TMP/poll.report" || fail "$1: the poller never saw the exec stage's command: $(cat "$TMP/poll.report")"
	# (a command shorter than a sample can slip through; terraform
	# init never is)
	[ $TERRAFORM = 0 ] || grep -q '^command .*terraform ' "$TMP/poll.report" ||
		fail "$1: the poller never saw terraform: $(cat "$TMP/poll.report")"
	for f in "$TMP/out" "$TMP/err"; do
		if grep -aF -f "$SECRETS" "$f" >/dev/null; then
			fail "$1: a secret is in $f"
		fi
	done
	hits=$(grep -rlaF -f "$SECRETS" "$STATE" "$TMPDIR" 2>/dev/null)
	[ -z "$hits" ] || fail "$1: a secret is in $hits"
	[ -n "$(ls "$STATE"/journal/*.json 2>/dev/null)" ] || fail "$1: no journal"
	# Payloads: bodies, query strings and headers (the webhook URL's path
	# and the Authorization header carry their own secret by design).
	hooks_call "$HOOKS" GET /_captured >"$TMP/cap.json" || fail "captures"
	python3 -c '
import json, sys
caps = json.load(open(sys.argv[1]))
for r in caps:
    r["headers"].pop("authorization", None)
    r.pop("path", None)
    print(json.dumps(r))' "$TMP/cap.json" >"$TMP/payloads"
	grep -q '"body": "{' "$TMP/payloads" || fail "$1: no notification payloads captured"
	if grep -aF -f "$SECRETS" "$TMP/payloads" >/dev/null; then
		fail "$1: a secret is in a notification payload"
	fi
}

# audit_success: a deploy that succeeds; no secret anywhere.
audit_success() {
	deploy_cfg healthz
	audited_deploy v1.0.0-rc.1
	[ "$rc" = 0 ] || fail "the audited deploy failed (exit $rc)"
	audit "success"
	[ "$(cat "$TMP/exec-saw.txt")" = "$S_ENV|$S_FILE|$S_SM" ] || fail "the exec stage did not get the secrets: $(cat "$TMP/exec-saw.txt")"
	expect_err "[tests] saw *** *** ***"
	expect_err "[release] token is ***"
	hooks_call "$PEER" GET /_captured >"$TMP/peer.cap" || fail "peer captures"
	grep -qF "Bearer $S_SM" "$TMP/peer.cap" || fail "the smoke check did not send its secret header"
	if [ $TERRAFORM = 1 ]; then
		expect_err "[tf-check] pw ***"
		grep -qF "pw-$S_TF-Zq7xK9" infra/terraform.tfstate || fail "terraform did not get the secret variable"
		printf 'pw-%s-Zq7xK9\n' "$S_TF" >> "$SECRETS"
	fi
	[ $REGISTRY = 0 ] || [ "$(json_get "$(last_record)" '[s for s in d["stages"] if s["name"] == "ecr"][0]["outputs"]["ecr.tls_verify"]')" = off ] ||
		fail "ecr.tls_verify not journaled"
	ok "success path: every secret reached its stage, and none is in stdout, stderr, the state directory, TMPDIR, payloads or any argv ($(sed -n 's/^samples //p' "$TMP/poll.report") samples)"
}

# audit_failure: a deploy whose smoke check fails, rolled back; no secret
# anywhere either.
audit_failure() {
	deploy_cfg down
	audited_deploy v1.0.0-rc.2
	[ "$rc" = 3 ] || fail "the failing deploy should be rolled back (exit 3), got $rc"
	audit "failure"
	expect_err "rolling back 'release'"
	grep -q '"rolled_back\|rolled back' "$TMP/payloads" || fail "no rolled-back notification"
	ok "failure path (smoke fails, rollback): no secret anywhere either"
}
