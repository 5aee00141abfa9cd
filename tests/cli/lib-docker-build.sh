# lib-docker-build.sh - setup shared by the docker-build tests (t2500,
# t2510): a build context in app/ (the image fixture and a static busybox
# when there is one) and a hermetic builder store in $STORE, temporary
# files and cache in $TMP.  Sourced after lib.sh.

STORE="$TMP/store"
export TMPDIR="$TMP" XDG_CACHE_HOME="$TMP/cache"
mkdir -p app
cp "$top_srcdir"/tests/fixtures/image/Dockerfile \
   "$top_srcdir"/tests/fixtures/image/Dockerfile.fail \
   "$top_srcdir"/tests/fixtures/image/message.txt app/
[ ! -x /bin/busybox ] || cp /bin/busybox app/busybox

# stage_block OPTIONS: a pipeline whose first entry publishes
# release.commit, as git-release would, then docker-build with OPTIONS.
stage_block() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "release"; outputs = ["release.commit=abc"]; },
  { stage = "docker-build"; name = "build"; context = "app"; storage = "$STORE"; $1 }
);
CFG
}
