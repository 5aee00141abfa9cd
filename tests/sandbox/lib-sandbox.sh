# lib-sandbox.sh - helpers for the sandbox's own tests (tests/sandbox/t-*.sh).
#
# Sourced by a test script: makes a temporary directory, and on exit stops
# the sandbox started there and removes it.  ok/fail print TAP-ish lines;
# the first failed check ends the script with exit 1, exit 77 is SKIP.

set -u

SANDBOX_SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/sandbox
T=$(mktemp -d "${TMPDIR:-/tmp}/gantry-sandbox.XXXXXX")
SB=$T/sb
sandbox_cleanup() {
	"$SANDBOX_SRC/sandbox" stop "$SB"
	rm -rf "$T"
}
trap sandbox_cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() {
	echo "FAIL: $*" >&2
	for f in "$T/out" "$T/err"; do
		[ -s "$f" ] && { echo "--- $f:" >&2; head -c 3000 "$f" >&2; echo >&2; }
	done
	[ -f "$SB/awssim.log" ] && { echo "--- awssim.log (tail):" >&2; tail -n 15 "$SB/awssim.log" >&2; }
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed${2:+ ($2)}"
}

# sandbox_start [OPTIONS]: starts the sandbox in $SB (tied to this shell)
# and sources its env.sh.
sandbox_start() {
	"$SANDBOX_SRC/sandbox" start "$SB" --parent-pid $$ --max-lifetime 300 "$@" \
		>"$T/out" 2>"$T/err" || fail "sandbox start failed"
	. "$SB/env.sh"
}

# sim PATH [JSON]: a control API call; the answer in $T/sim.
sim() {
	curl -sS -f -X POST -H 'Content-Type: application/json' \
		--data "${2:-{\}}" "$AWSSIM_URL/_sim/$1" >"$T/sim" 2>"$T/err" ||
		fail "control call /_sim/$1 failed"
}

# jget FILE EXPR: a python expression on the JSON document d in FILE.
jget() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# expect FILE EXPR WANT [WHAT]: jget FILE EXPR must print WANT.
expect() {
	got=$(jget "$1" "$2" 2>"$T/jerr") || { cat "$T/jerr" >&2; fail "${4:-$2}: cannot evaluate $2"; }
	[ "$got" = "$3" ] || fail "${4:-$2}: expected '$3', got '$got'"
}

# has FILE TEXT: FILE contains TEXT (fixed string).
has() { grep -qF -- "$2" "$1" || fail "$1 lacks: $2"; }

# push_image REPO TAG USER:PASSWORD: pushes a one-layer FROM-scratch image to
# $SANDBOX_REGISTRY with the registry's v2 API (blob uploads, then the OCI
# manifest), as a registry client does.  Sets IMAGE_DIGEST (the registry's
# Docker-Content-Digest) and LAYER_SIZE; the manifest is in $T/manifest.json.
push_image() {
	mkdir -p "$T/img"
	echo "sandbox image $1:$2" >"$T/img/hello"
	tar -C "$T/img" -cf "$T/layer.tar" hello || fail "tar failed"
	gzip -n -c "$T/layer.tar" >"$T/layer.tar.gz"
	diff_id=sha256:$(sha256sum <"$T/layer.tar" | cut -d' ' -f1)
	layer=sha256:$(sha256sum <"$T/layer.tar.gz" | cut -d' ' -f1)
	LAYER_SIZE=$(wc -c <"$T/layer.tar.gz" | tr -d ' ')
	printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
		"$diff_id" >"$T/config.json"
	config=sha256:$(sha256sum <"$T/config.json" | cut -d' ' -f1)
	config_size=$(wc -c <"$T/config.json" | tr -d ' ')
	for blob in "$T/layer.tar.gz:$layer" "$T/config.json:$config"; do
		file=${blob%%:sha256:*}
		digest=sha256:${blob##*:sha256:}
		curl -sS -f -u "$3" -X POST -D "$T/hdr" -o /dev/null \
			"http://$SANDBOX_REGISTRY/v2/$1/blobs/uploads/" 2>"$T/err" ||
			fail "registry refused a blob upload to $1"
		loc=$(tr -d '\r' <"$T/hdr" | sed -n 's/^[Ll]ocation: //p')
		case $loc in http*) ;; *) loc=http://$SANDBOX_REGISTRY$loc ;; esac
		case $loc in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
		curl -sS -f -u "$3" -X PUT -H 'Content-Type: application/octet-stream' \
			--data-binary "@$file" -o /dev/null "$loc" 2>"$T/err" ||
			fail "registry refused blob $digest"
	done
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
		"$config" "$config_size" "$layer" "$LAYER_SIZE" >"$T/manifest.json"
	curl -sS -f -u "$3" -X PUT -D "$T/hdr" -o /dev/null \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$T/manifest.json" \
		"http://$SANDBOX_REGISTRY/v2/$1/manifests/$2" 2>"$T/err" ||
		fail "registry refused the manifest of $1:$2"
	IMAGE_DIGEST=$(tr -d '\r' <"$T/hdr" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
	[ -n "$IMAGE_DIGEST" ] || fail "no Docker-Content-Digest from the registry"
}

# alive PID: the process exists and has not exited (a zombie waiting for its
# reaper has).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}
