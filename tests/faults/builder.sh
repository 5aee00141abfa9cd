# builder.sh - docker-build's builder: buildah failing (a stand-in that
# exits 1 with an error, as a broken storage or a failing step makes it),
# no builder installed.  Sourced by matrix.sh.

mkdir -p "$TMP/fakebin"
cat >"$TMP/fakebin/buildah" <<'SH'
#!/bin/sh
# A buildah that answers "version" and fails every build.
case "$*" in
*version*) echo "buildah version 1.28.2 (image-spec 1.1.0-rc2, runtime-spec 1.0.2-dev)"; exit 0 ;;
esac
echo "Error: creating build container: mount overlay: no space left on device" >&2
exit 125
SH
chmod 755 "$TMP/fakebin/buildah"

# build OPTIONS: prev, then docker-build of a FROM scratch context.
build() {
	mkdir -p app
	printf 'FROM scratch\nCOPY hello /hello\n' >app/Dockerfile
	echo hi >app/hello
	cfg_stage "stage = \"docker-build\"; name = \"build\"; context = \"app\"; storage = \"$CELL/store\"; build_args = { TOKEN = \"$SECRET_TOKEN\"; }; $1"
}

cell_begin builder failing
build 'builder = "buildah";'
PATH="$TMP/fakebin:$PATH" run deploy $TAG
cell_check 3 "stage 'build': buildah bud failed (exit 125)"

cell_begin builder missing
build 'builder = "buildah";'
mkdir -p nobin
PATH="$CELL/nobin" run_bare deploy $TAG
cell_check 3 "stage 'build': builder 'buildah' does not work here: buildah not found; install it"

cell_begin builder none-works
build ''
PATH="$CELL/nobin" run_bare deploy $TAG
cell_check 3 "stage 'build': no working image builder: docker not found, podman not found, buildah not found; install buildah or set builder"
