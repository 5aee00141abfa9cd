#!/bin/sh
# t2700: the ecr stage against the sandbox: the simulator's ECR API hands
# out the token the sandbox's real docker-registry accepts.  An image built
# FROM scratch by docker-build (buildah) is pushed natively from its OCI
# layout: fresh push (digest = the registry's), re-push (a no-op without
# blob uploads), immutable-tag conflict, missing repository with and
# without create_repository, a registry that refuses the token, answers
# 503 or is down, push = builder with a private auth file, and the plan.
. "$top_srcdir/tests/lib.sh"

command -v buildah >/dev/null 2>&1 || skip "buildah is not installed (apt-get install buildah)"
command -v docker-registry >/dev/null 2>&1 || skip "docker-registry is not installed (apt-get install docker-registry)"
command -v htpasswd >/dev/null 2>&1 || skip "htpasswd is not installed (apt-get install apache2-utils)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
[ -x /bin/busybox ] || skip "/bin/busybox is missing (apt-get install busybox-static)"

sandbox_start
[ -n "${SANDBOX_REGISTRY:-}" ] || skip "the sandbox started without its registry"

# The staging account's own keys; nothing from the machine's AWS config.
export AWS_ACCESS_KEY_ID="$SANDBOX_STAGING_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$SANDBOX_STAGING_SECRET"
export AWS_CONFIG_FILE="$TMP/none" AWS_SHARED_CREDENTIALS_FILE="$TMP/none"
TOKEN=$(printf 'AWS:%s' "$SANDBOX_REGISTRY_PASSWORD" | base64 -w0)
REPO=staging/address-api
TAG=v0.1.0-rc.1

# Hermetic builds: a private store, temporary files and cache in $TMP.
STORE="$TMP/store"
export TMPDIR="$TMP/tmp" XDG_CACHE_HOME="$TMP/cache"
mkdir -p "$TMPDIR" app
cp "$top_srcdir"/tests/fixtures/image/Dockerfile \
   "$top_srcdir"/tests/fixtures/image/message.txt app/
cp /bin/busybox app/busybox

# profile ECR_OPTIONS: the staging profile (the sandbox's staging account)
# with these options for the ecr entry.
profile() {
	mkdir -p profiles
	cat > profiles/staging.cfg <<CFG
aws = { region = "ap-south-1"; account_id = "$SANDBOX_STAGING_ACCOUNT"; };
stages = { ecr = { $1 }; };
CFG
}

# build_pipeline: git-release's outputs (tfix), docker-build, ecr.
build_pipeline() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "release"; outputs = ["release.commit=abc"]; },
  { stage = "docker-build"; name = "build"; context = "app"; storage = "$STORE"; },
  { stage = "ecr"; }
);
CFG
}

# layout_pipeline DIR: ecr pushing the layout DIR as tfix publishes it,
# without building.
layout_pipeline() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "build"; outputs = ["image.layout=$1", "image.tag=$TAG"]; },
  { stage = "ecr"; }
);
CFG
}

# out KEY [ENTRY]: the ecr entry's output KEY in the newest record.
out() {
	json_get "$(last_record)" "[s for s in d['stages'] if s['name'] == '${2:-ecr}'][0]['outputs'].get('$1', '')"
}

# registry_digest REPO REF: the Docker-Content-Digest of a manifest GET.
registry_digest() {
	curl -sS -f -u "AWS:$SANDBOX_REGISTRY_PASSWORD" -o /dev/null -D "$TMP/hdr" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
		"http://$SANDBOX_REGISTRY/v2/$1/manifests/$2" || fail "no manifest $1:$2 in the registry"
	tr -d '\r' <"$TMP/hdr" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# uploads: blob uploads the registry has seen so far.
uploads() {
	grep -c 'http.request.method=POST.*blobs/uploads' "$SB/registry.log"
}

# no_secret FILE...: neither the password nor the token is in FILE.
no_secret() {
	for f in "$@"; do
		! grep -qF -- "$SANDBOX_REGISTRY_PASSWORD" "$f" || fail "the registry password is in $f"
		! grep -qF -- "$TOKEN" "$f" || fail "the ECR token is in $f"
		! grep -qF -- "$(printf %s "$SANDBOX_REGISTRY_PASSWORD" | cut -c1-40)" "$f" ||
			fail "part of the registry password is in $f"
	done
}

# --- plan before anything exists
profile "repository = \"$REPO\"; create_repository = true;"
build_pipeline
run plan "$TAG"
expect_rc 0 "plan"
cat "$TMP/out" >> "$TMP/err"
expect_err "would push $SANDBOX_REGISTRY/$REPO:$TAG (native push)"
expect_err "registry: $SANDBOX_REGISTRY (plain HTTP)"
expect_err "repository: $REPO does not exist in $SANDBOX_STAGING_ACCOUNT/ap-south-1; would create it (immutable tags)"
expect_err "tag: $TAG is not in the repository"
expect_err "image: the one docker-build builds (no layout yet)"
no_secret "$TMP/err"
ok "plan shows registry, repository, tag and what would be pushed, and creates nothing"

# --- fresh push
run deploy "$TAG"
expect_rc 0 "fresh push"
expect_err "created repository '$REPO' in $SANDBOX_STAGING_ACCOUNT/ap-south-1 (immutable tags)"
expect_err "pushed $SANDBOX_REGISTRY/$REPO:$TAG (sha256:"
digest=$(out image.digest)
[ "$digest" = "$(registry_digest "$REPO" "$TAG")" ] ||
	fail "image.digest $digest is not the registry's $(registry_digest "$REPO" "$TAG")"
[ "$(out image.uri)" = "$SANDBOX_REGISTRY/$REPO:$TAG" ] || fail "image.uri: $(out image.uri)"
[ "$(out image.uri_digest)" = "$SANDBOX_REGISTRY/$REPO@$digest" ] || fail "image.uri_digest: $(out image.uri_digest)"
[ "$(out image.repository)" = "$REPO" ] || fail "image.repository"
[ "$(out image.tag)" = "$TAG" ] || fail "image.tag"
[ "$(out image.registry)" = "$SANDBOX_REGISTRY" ] || fail "image.registry"
layout1=$(out image.layout build)
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$layout1/index.json")" = "$digest" ] ||
	fail "the pushed digest is not the layout's manifest"
[ "$(uploads)" -gt 0 ] || fail "the registry log shows no blob upload"
no_secret "$TMP/err" "$(last_record)"
ok "fresh push: repository created, image.digest equals the registry's Docker-Content-Digest"

# --- re-push of the same build: one HEAD, no blob uploads
before=$(uploads)
layout_pipeline "$layout1"
run deploy "$TAG"
expect_rc 0 "re-push"
expect_err "$SANDBOX_REGISTRY/$REPO:$TAG already pushed ($digest)"
[ "$(uploads)" = "$before" ] || fail "a re-push uploaded blobs ($before -> $(uploads))"
[ "$(out image.digest)" = "$digest" ] || fail "re-push digest"
secs=$(json_get "$(last_record)" "[round(s['finished'] - s['started'], 3) for s in d['stages'] if s['name'] == 'ecr'][0]")
limit=1
[ "${GANTRY_VALGRIND:-0}" = 1 ] && limit=10
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$secs" "$limit" ||
	fail "the no-op re-push took ${secs}s"
ok "re-push of the same image is a no-op: no blob uploads, same digest (${secs}s)"

# --- plan once the tag exists (a plan runs no stage: the layout is an option)
profile "repository = \"$REPO\"; layout = \"$layout1\";"
run plan "$TAG"
expect_rc 0 "plan after push"
cat "$TMP/out" >> "$TMP/err"
expect_err "repository: $REPO exists in $SANDBOX_STAGING_ACCOUNT/ap-south-1 (immutable tags)"
expect_err "tag: $TAG exists as $digest"
expect_err "nothing to push: already pushed"
ok "plan after the push: repository and tag exist, nothing to push"

# --- a rebuilt image under the same tag: refused, both digests named
profile "repository = \"$REPO\";"
build_pipeline
run deploy "$TAG"
expect_rc 1 "conflict"
layout2=$(out image.layout build)
d2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$layout2/index.json")
[ "$d2" != "$digest" ] || fail "the rebuild has the same digest; the conflict is not tested"
expect_err "tag '$TAG' already exists in '$REPO' with digest $digest, the build is $d2; tags are immutable: release a new version"
[ "$(registry_digest "$REPO" "$TAG")" = "$digest" ] || fail "the conflicting push moved the tag"
ok "immutable tag: another image under an existing tag fails with both digests"

# --- immutable = false moves the tag
profile "repository = \"$REPO\"; immutable = false;"
layout_pipeline "$layout2"
run deploy "$TAG"
expect_rc 0 "mutable move"
expect_err "moving tag '$TAG' of '$REPO' from $digest to $d2"
[ "$(registry_digest "$REPO" "$TAG")" = "$d2" ] || fail "the tag did not move"
ok "immutable = false moves the tag to the new image"

# --- a second repository mounts the blobs instead of uploading them
profile "repository = \"production/address-api\"; create_repository = true; mount_from = [\"$REPO\"];"
before=$(uploads)
run deploy "$TAG"
expect_rc 0 "mount"
expect_err "0 blobs uploaded"
expect_err "mounted"
[ "$(registry_digest production/address-api "$TAG")" = "$d2" ] || fail "mounted image digest"
ok "mount_from links the blobs from another repository instead of uploading them"

# --- repository missing, without create_repository
profile "repository = \"staging/missing-api\";"
run deploy "$TAG"
expect_rc 1 "missing repository"
expect_err "repository 'staging/missing-api' not found in $SANDBOX_STAGING_ACCOUNT/ap-south-1; create it or set create_repository = true in stage 'ecr'"
ok "a missing repository without create_repository is one clear error"

# --- a layer whose bytes do not match its digest is never completed
cp -r "$layout1" "$TMP/bad"
layer=$(python3 - "$TMP/bad" <<'PY'
import json, os, sys
d = sys.argv[1]
blob = lambda g: os.path.join(d, "blobs", *g.split(":"))
m = json.load(open(blob(json.load(open(os.path.join(d, "index.json")))["manifests"][0]["digest"])))
layer = max(m["layers"], key=lambda l: l["size"])["digest"]
with open(blob(layer), "r+b") as f:
    f.seek(os.path.getsize(blob(layer)) // 2)
    c = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([c[0] ^ 0xff]))
print(layer)
PY
)
profile "repository = \"staging/corrupt-api\"; create_repository = true;"
layout_pipeline "$TMP/bad"
run deploy "$TAG"
expect_rc 1 "corrupt layer"
expect_err "does not match its digest $layer (its content hashes to sha256:"
expect_err "the layout is corrupt: rebuild the image"
code=$(curl -s -o /dev/null -w '%{http_code}' -I -u "AWS:$SANDBOX_REGISTRY_PASSWORD" \
	"http://$SANDBOX_REGISTRY/v2/staging/corrupt-api/blobs/$layer")
[ "$code" = 404 ] || fail "the corrupt layer reached the registry (HEAD: $code)"
ok "a blob that does not match its digest is aborted before the registry completes it"

# --- a registry that refuses the token, one that fails, one that is down
python3 "$top_srcdir/tests/servers/httpd.py" --port-file "$TMP/port401" \
	--parent-pid $$ --max-lifetime 300 >"$TMP/httpd.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
wait_until 60 "the 401 server to start" test -s "$TMP/port401"
port=$(cat "$TMP/port401")
curl -sS -X POST --data '{"default": {"status": 401, "headers": {"WWW-Authenticate": "Basic realm=\"x\""}, "body": {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}}}' \
	"http://127.0.0.1:$port/_script" >/dev/null || fail "cannot script the 401 server"
profile "repository = \"$REPO\"; registry = \"http://127.0.0.1:$port\";"
run deploy "$TAG"
expect_rc 1 "401"
expect_err "registry '127.0.0.1:$port' refused the ECR credentials (401) for HEAD of manifest $REPO:$TAG"
no_secret "$TMP/err" "$(last_record)"
ok "a registry refusing the token: a clear 401 message, no secret shown"

curl -sS -X POST --data '{"default": {"status": 503, "body": "down for maintenance"}}' \
	"http://127.0.0.1:$port/_script" >/dev/null || fail "cannot script the 503 server"
curl -sS -X POST "http://127.0.0.1:$port/_reset" >/dev/null
run deploy "$TAG"
expect_rc 1 "503"
expect_err "registry '127.0.0.1:$port' answered 503 to HEAD of manifest $REPO:$TAG"
n=$(curl -sS "http://127.0.0.1:$port/_captured" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 3 ] || fail "expected 3 attempts at a 503 registry, saw $n"
ok "a registry answering 503 is retried, then reported"

down=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
profile "repository = \"$REPO\"; registry = \"http://127.0.0.1:$down\";"
run deploy "$TAG"
expect_rc 1 "down"
expect_err "cannot reach registry '127.0.0.1:$down'"
ok "a registry that is down: cannot reach"

# --- push = builder: buildah with a private auth file
mkdir -p "$TMP/bin"
real_buildah=$(command -v buildah)
cat > "$TMP/bin/buildah" <<SH
#!/bin/sh
# records what a push sees, then runs the real buildah
case " \$* " in *" push --authfile "*)
	{
		echo "argv: \$*"
		echo "file: \$REGISTRY_AUTH_FILE \$(stat -c %a "\$REGISTRY_AUTH_FILE")"
		echo "dir: \$DOCKER_CONFIG \$(stat -c %a "\$DOCKER_CONFIG")"
		echo "auth: \$(cat "\$REGISTRY_AUTH_FILE")"
	} > "$TMP/seen"
esac
exec "$real_buildah" "\$@"
SH
chmod 755 "$TMP/bin/buildah"
profile "repository = \"$REPO\"; push = \"builder\"; storage = \"$STORE\";"
build_pipeline
PATH="$TMP/bin:$PATH" run deploy v0.2.0-rc.1
expect_rc 0 "builder push"
[ -s "$TMP/seen" ] || fail "buildah push did not run"
expect_file_has "$TMP/seen" "file: $TMPDIR/gantry-ecr-auth."
expect_file_has "$TMP/seen" "/config.json 600"
expect_file_has "$TMP/seen" "dir: $TMPDIR/gantry-ecr-auth."
grep -q '^dir: .* 700$' "$TMP/seen" || fail "the auth directory is not 0700: $(cat "$TMP/seen")"
expect_file_has "$TMP/seen" "\"auths\":{\"$SANDBOX_REGISTRY\":{\"auth\":\"$TOKEN\"}}"
grep '^argv:' "$TMP/seen" > "$TMP/argv"
expect_file_has "$TMP/argv" "--tls-verify=false"
no_secret "$TMP/argv" "$TMP/err" "$(last_record)"
[ -z "$(ls -A "$TMPDIR" | grep gantry-ecr-auth)" ] || fail "the auth directory was left behind: $(ls "$TMPDIR")"
bd=$(out image.digest)
[ "$bd" = "$(registry_digest "$REPO" v0.2.0-rc.1)" ] || fail "builder push digest $bd is not the registry's"
ok "push = builder: buildah gets a private 0600 auth file, removed after; the digest is the registry's"

PATH="$TMP/bin:$PATH" run deploy v0.2.0-rc.1
expect_rc 1 "builder conflict"
expect_err "tag 'v0.2.0-rc.1' already exists in '$REPO' with digest $bd, the build is sha256:"
ok "push = builder refuses to move an immutable tag"
