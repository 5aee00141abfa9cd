#!/bin/sh
# t2500: the docker-build stage with a real buildah: an image FROM scratch
# (a static busybox, a RUN step, ARG, LABEL, a multi-stage target) built
# into an OCI image layout with the OCI labels; failures, builder choice,
# and a plan that builds nothing.  (builder = "docker": t2510.)
. "$top_srcdir/tests/lib.sh"

need buildah "apt-get install buildah"
[ -x /bin/busybox ] || skip "/bin/busybox is missing (apt-get install busybox-static)"

. "$top_srcdir/tests/cli/lib-docker-build.sh"

# layout DIR TAG EXPR: evaluates EXPR on the image tagged TAG in the OCI
# layout DIR: labels (dict), files (path -> text of small regular files
# across all layers), config_digest, manifest.
layout() {
	python3 - "$@" <<'PY'
import io, json, os, sys, tarfile
d, tag, expr = sys.argv[1:4]
def blob(digest):
    return open(os.path.join(d, "blobs", *digest.split(":")), "rb").read()
index = json.load(open(os.path.join(d, "index.json")))
desc = [m for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
manifest = json.loads(blob(desc["digest"]))
config = json.loads(blob(manifest["config"]["digest"]))
config_digest = manifest["config"]["digest"]
labels = config.get("config", {}).get("Labels") or {}
files = {}
for layer in manifest["layers"]:
    with tarfile.open(fileobj=io.BytesIO(blob(layer["digest"])), mode="r:*") as t:
        for m in t.getmembers():
            if m.isfile() and m.size < 4096:
                files["/" + m.name.lstrip("./")] = t.extractfile(m).read().decode().strip()
print(eval(expr))
PY
}

# journal_output KEY: the build entry's output KEY in the newest record.
journal_output() {
	json_get "$(last_record)" "[s for s in d['stages'] if s['name'] == 'build'][0]['outputs'].get('$1', '')"
}

# --- plan: the builder, the command line, tags and labels; no build
stage_block 'tags = ["${release.tag}", "latest"]; build_args = { GREETING = "hi-there"; }; labels = { team = "ops"; };'
run plan v1.0.0-rc.1
expect_rc 0 "plan"
cat "$TMP/out" >> "$TMP/err"
expect_err "would build svc:v1.0.0-rc.1 from $TMP/app/Dockerfile with buildah (the first that works)"
expect_err "build: buildah --root $STORE/root --runroot $STORE/run --storage-driver vfs bud --isolation chroot --layers -f $TMP/app/Dockerfile --build-arg GREETING=hi-there --iidfile"
expect_err "bud --isolation chroot --layers=false --pull=never -f $TMP/gantry-build.XXXXXX/Dockerfile -t svc:v1.0.0-rc.1 -t svc:latest --label org.opencontainers.image.version=1.0.0-rc.1"
expect_err "--label team=ops"
expect_err "push svc:latest"
expect_err "tags: v1.0.0-rc.1, latest"
[ ! -e "$STORE" ] || fail "plan created the builder's store"
[ ! -d "$STATE/work" ] || fail "plan wrote an image layout"
ok "plan shows builder, command, tags and labels, and builds nothing"

# --- a real build into an OCI layout
run deploy v1.0.0-rc.1
expect_rc 0 "build"
expect_err "[build] [2/2] STEP"
lay=$(journal_output image.layout)
[ -n "$lay" ] || fail "no image.layout in the journal"
case "$lay" in "$STATE"/work/*) ;; *) fail "layout outside the deploy's state dir: $lay" ;; esac
[ -f "$lay/index.json" ] && [ -f "$lay/oci-layout" ] && [ -d "$lay/blobs/sha256" ] ||
	fail "incomplete OCI layout in $lay: $(ls -R "$lay" 2>&1 | head)"
[ "$(layout "$lay" v1.0.0-rc.1 'labels["org.opencontainers.image.version"]')" = "1.0.0-rc.1" ] || fail "version label"
[ "$(layout "$lay" v1.0.0-rc.1 'labels["org.opencontainers.image.revision"]')" = "abc" ] || fail "revision label"
created=$(layout "$lay" v1.0.0-rc.1 'labels["org.opencontainers.image.created"]')
python3 -c '
import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
age = (datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()
sys.exit(0 if -5 <= age <= 600 else 1)' "$created" || fail "created label '$created' is not now in RFC 3339 UTC"
[ "$(layout "$lay" v1.0.0-rc.1 'labels["team"]')" = "ops" ] || fail "custom label"
[ "$(layout "$lay" v1.0.0-rc.1 'labels["com.example.fixture"]')" = "gantry" ] || fail "Dockerfile label"
[ "$(layout "$lay" v1.0.0-rc.1 'files["/greeting.txt"]')" = "hi-there" ] || fail "build arg not applied"
[ "$(layout "$lay" v1.0.0-rc.1 'files["/built.txt"]')" = "built" ] || fail "RUN step output missing"
[ "$(layout "$lay" v1.0.0-rc.1 'files["/message.txt"]')" = "hello from the build context" ] || fail "COPY from context"
[ "$(layout "$lay" latest 'config_digest')" = "$(layout "$lay" v1.0.0-rc.1 'config_digest')" ] || fail "latest is another image"
ok "buildah builds FROM scratch with RUN, ARG and LABEL into an OCI layout with the OCI labels"

id=$(journal_output image.id)
[ "$id" = "$(layout "$lay" v1.0.0-rc.1 'config_digest')" ] || fail "image.id $id is not the image's config digest"
[ "$(journal_output image.name)" = "svc" ] || fail "image.name"
[ "$(journal_output image.tag)" = "v1.0.0-rc.1" ] || fail "image.tag"
[ "$(journal_output image.tags)" = "v1.0.0-rc.1,latest" ] || fail "image.tags"
[ "$(journal_output image.local)" = "svc:v1.0.0-rc.1" ] || fail "image.local"
buildah --root "$STORE/root" --runroot "$STORE/run" --storage-driver vfs \
	images --format '{{.Name}}:{{.Tag}}' > "$TMP/images" 2>&1
expect_file_has "$TMP/images" "svc:v1.0.0-rc.1"
ok "image.id, image.name, image.tag(s), image.local and image.layout are published"

# --- plan after a build adds nothing to the store
before=$(find "$STORE" | wc -l)
run plan v1.0.0-rc.2
expect_rc 0 "second plan"
[ "$(find "$STORE" | wc -l)" = "$before" ] || fail "plan changed the store"
ok "plan leaves the store as it was"

# --- a multi-stage target, without a layout
stage_block 'image_name = "svc-base"; tags = ["base"]; target = "base"; oci_layout = false;'
run plan v1.0.1-rc.1
expect_rc 0 "target plan"
cat "$TMP/out" >> "$TMP/err"
expect_err "--target base"
expect_no_err "push svc-base"
run deploy v1.0.1-rc.1
expect_rc 0 "target build"
[ -z "$(journal_output image.layout)" ] || fail "image.layout published with oci_layout = false"
[ "$(journal_output image.local)" = "svc-base:base" ] || fail "image.local of the target"
buildah --root "$STORE/root" --runroot "$STORE/run" --storage-driver vfs \
	inspect --format '{{.OCIv1.Config.Labels}}' svc-base:base > "$TMP/labels" 2>&1 ||
	fail "svc-base:base not in the store: $(cat "$TMP/labels")"
expect_file_has "$TMP/labels" "org.opencontainers.image.revision:abc"
# buildah's cache would hand back the stage as labelled by the first build
expect_file_has "$TMP/labels" "org.opencontainers.image.version:1.0.1-rc.1"
expect_file_lacks "$TMP/labels" "com.example.fixture"
ok "target builds only that stage of a multi-stage Dockerfile"

# --- a failing RUN step
stage_block 'dockerfile = "Dockerfile.fail"; tags = ["broken"];'
run deploy v1.0.2-rc.1
expect_rc 1 "failing RUN"
expect_err "buildah bud failed (exit"
expect_err "last output:"
expect_err "step-broke-here"
[ -z "$(journal_output image.id)" ] || fail "a failed build published image.id"
ok "a failing RUN step fails the stage with buildah's last lines"

# --- no builder at all
stage_block ''
mkdir -p "$TMP/nobin"
PATH="$TMP/nobin" "$top_builddir/gantry" plan v1.0.4-rc.1 >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 1 "no builder"
expect_err "no working image builder: docker not found, podman not found, buildah not found; install buildah or set builder"
ok "no working builder is one clear message"

stage_block 'builder = "kaniko";'
run plan v1.0.5-rc.1
expect_rc 1 "unknown builder"
expect_err "builder 'kaniko' is not one gantry drives"
ok "an unknown builder is a configuration error"
