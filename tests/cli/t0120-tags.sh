#!/bin/sh
# t0120: hostile release tags, environment names, stage names and secrets
# are refused before anything runs; the tag -> version rule follows
# gantry.cfg's tag_prefix.
. "$top_srcdir/tests/lib.sh"

# nothing_ran: no stage was called, no shell command ran, no journal.
nothing_ran() {
	[ ! -e "$TMP/calls" ] || fail "a stage ran: $(cat "$TMP/calls")"
	[ ! -e "$TMP/X" ] && [ ! -e "$TMP/Y" ] || fail "a shell command ran"
	[ -z "$(ls "$STATE/journal" 2>/dev/null)" ] || fail "journal written"
}

# The tag reaches a shell command and a path, as in a careless pipeline.
write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "t"; log = "$TMP/calls"; },
  { stage = "exec"; name = "sh"; shell = true;
    command = ["echo \${release.tag} > $TMP/tag-seen"]; }
);
CFG

bad_tag() {	# bad_tag TAG EXPECTED-STDERR
	for cmd in deploy plan; do
		run "$cmd" -- "$1"
		expect_rc 2 "$cmd '$1'"
		expect_err "$2"
		[ "$(grep -c 'error:' "$TMP/err")" = 1 ] || fail "one error line for '$1'"
		nothing_ran
	done
}

bad_tag 'v0.2.0-rc.1/../../../victim/manifests/latest' \
	"tag 'v0.2.0-rc.1/../../../victim/manifests/latest' is not a valid release tag: '/' at byte 12 is not allowed"
bad_tag 'v1.0.0-rc.1;touch X$(touch Y)' "';' at byte 12 is not allowed"
bad_tag '' "the release tag is empty"
bad_tag "$(printf 'v1.0.0-rc.1\nv9.9.9')" "tag 'v1.0.0-rc.1\\x0av9.9.9' is not a valid release tag: '\\x0a' at byte 12"
bad_tag "$(printf 'v1.0.0-rc.1\033[2K')" "'\\x1b' at byte 12 is not allowed"
bad_tag 'v1..2-rc.1' "git refuses '..' in a tag"
bad_tag 'v1.2.3-rc.1.lock' "git refuses a tag ending in '.' or '.lock'"
bad_tag 'v1.2.3-rc.' "git refuses a tag ending in '.' or '.lock'"
bad_tag '-v1.2.3-rc.1' "'-' at byte 1 is not allowed"
bad_tag ".v1.2.3-rc.1" "'.' at byte 1 is not allowed"
bad_tag "v1.0.0-rc.$(printf '%0130d' 1)" "it is longer than 128 bytes"
expect_no_err "$(printf '%0100d' 1)"
ok "bad tags are refused by deploy and plan, with one line and exit 2, before any stage"

run deploy "v1.0.0-rc.$(printf '%0116d' 1)" -e staging
expect_rc 0
ok "a 128-byte tag is still a tag"
rm -f "$TMP/calls" "$TMP/tag-seen" "$STATE"/journal/*

# Rollback: --to and a tag read back from the journal get the same check.
run deploy v1.0.0-rc.1
expect_rc 0
run deploy v1.0.0-rc.2
expect_rc 0
rm -f "$TMP/calls"
run rollback staging --to 'v1.0.0-rc.1;touch X'
expect_rc 2
expect_err "tag 'v1.0.0-rc.1;touch X' is not a valid release tag"
[ ! -e "$TMP/calls" ] || fail "rollback --to ran a stage"
first=$(ls -tr "$STATE"/journal/*.json | head -n 1)
python3 - "$first" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["tag"] = "v1.0.0-rc.1;touch X$(touch Y)"
json.dump(d, open(sys.argv[1], "w"))
PY
run rollback staging
expect_rc 2
expect_err "journal record $(json_get "$first" 'd["id"]'): tag 'v1.0.0-rc.1;touch X\$(touch Y)' is not a valid release tag"
[ ! -e "$TMP/calls" ] && [ ! -e "$TMP/X" ] && [ ! -e "$TMP/Y" ] || fail "rollback ran the journal's tag"
ok "rollback refuses a bad --to and a bad tag read from the journal"
rm -f "$STATE"/journal/*

# Batch files: the tag of every deploy is checked with the rest.
mkdir -p ops
cat > ops/b.cfg <<EOF
deploys = ( { name = "a"; config = "../gantry.cfg"; tag = "v1.0.0-rc.1 && touch X"; } );
EOF
run batch ops/b.cfg
expect_rc 2
expect_err "is not a valid release tag: ' ' at byte 12"
nothing_ran
ok "batch refuses a bad tag before anything runs"

# ---- tag_prefix -----------------------------------------------------------

version_of() {	# version_of TAG ENV: deploys, prints the journal's version
	rm -f "$STATE"/journal/*
	run deploy "$1" -e "$2"
	expect_rc 0 "deploy $1"
	json_get "$(last_record)" 'd["version"] + " " + d["context"]["release.version"]'
}

[ "$(version_of v1.2.3-rc.1 staging)" = "1.2.3-rc.1 1.2.3-rc.1" ] || fail "default prefix v"
[ "$(version_of 1.2.3-rc.1 staging)" = "1.2.3-rc.1 1.2.3-rc.1" ] || fail "no prefix, default"
sed -i '1a tag_prefix = "release-";' gantry.cfg
[ "$(version_of release-1.2.3 staging)" = "1.2.3 1.2.3" ] || fail "prefix release-"
[ "$(version_of v1.2.3 staging)" = "v1.2.3 v1.2.3" ] || fail "v is not the prefix now"
sed -i 's/^tag_prefix = .*/tag_prefix = "v\/";/' gantry.cfg
run config check
expect_rc 2
expect_err "gantry.cfg:2: tag_prefix 'v/' cannot start a release tag"
ok "tag_prefix sets the tag -> version rule (default v) and is checked"

# git-release follows the prefix: 0.1.0-rc.1 in a repository whose tags
# have none.
git init -q repo
git -C repo -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
git -C repo branch -M main
git -C repo -c user.name=t -c user.email=t@t tag -a 0.1.0-rc.1 -m "rc 1"
cat > gantry.cfg <<CFG
service = "svc";
tag_prefix = "";
environments = (
  { name = "staging"; tags = "*-rc.*"; profile = "profiles/staging.cfg"; },
  { name = "production"; tags = "*"; profile = "profiles/production.cfg"; }
);
pipeline = ( { stage = "git-release"; repo = "repo"; worktree = false; } );
CFG
run deploy 0.1.0-rc.1
expect_rc 0
[ "$(json_get "$(last_record)" 'd["context"]["release.version"]')" = "0.1.0-rc.1" ] || fail "git-release version"
expect_err "tag 0.1.0-rc.1: a release candidate"
run deploy v0.1.0-rc.1 -e staging
expect_rc 1
expect_err "tag 'v0.1.0-rc.1' is not a release tag: use MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH-rc.N"
ok "git-release checks tags against tag_prefix (\"\" here)"

# ---- environment and stage names -------------------------------------------

for name in '../x' 'a/b' '' 'a b' "$(printf 'a\033b')"; do
	cat > gantry.cfg <<CFG
service = "svc";
environments = ( { name = "$name"; tags = "*"; profile = "profiles/staging.cfg"; } );
pipeline = ( { stage = "exec"; command = ["true"]; } );
CFG
	run config check
	expect_rc 2 "environment '$name'"
	expect_err "gantry.cfg:2: environment name '"
	expect_err "is not a plain name; use 1 to 64 letters, digits, '-' and '_'"
done
expect_err "environment name 'a\\x1bb'"
ok "environment names that are not plain names fail config check"

cat > gantry.cfg <<CFG
service = "svc";
environments = ( { name = "staging"; tags = "*"; profile = "profiles/staging.cfg"; } );
pipeline = ( { stage = "exce"; command = ["true"]; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:3: no plugin provides stage 'exce' (searched: $PLUGINS"
expect_err "did you mean 'exec'?"
ok "an unknown stage name gets a did-you-mean"

# ---- secrets ---------------------------------------------------------------

cat > gantry.cfg <<CFG
service = "svc";
environments = ( { name = "staging"; tags = "*"; profile = "profiles/staging.cfg"; } );
pipeline = (
  { stage = "exec"; name = "show"; command = ["sh", "-c", "printf '%s\\\\n' \"\$K\"; echo \"\$K\" >&2; exit 3"];
    env = { K = "\${secret:env:PEM}"; }; on_failure = "continue"; },
  { stage = "tfix"; name = "t"; token = "\${secret:file:key.pem}"; action = "fail"; }
);
notify = ( { plugin = "tnotify"; file = "events"; } );
CFG
cat > key.pem <<'PEM'
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDdL2JmLWxpbmUtdHdvLXNlY3JldC1rZXktbWF0ZXJpYWwAAAAAAAAAAA==
-----END OPENSSH PRIVATE KEY-----
PEM
chmod 600 key.pem
PEM=$(cat key.pem)
export PEM
run --json deploy v1.0.0
expect_rc 1
for f in "$TMP/out" "$TMP/err" "$STATE"/journal/*.json events; do
	expect_file_lacks "$f" "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
	expect_file_lacks "$f" "QyNTUxOQAAACDdL2JmLWxpbmUtdHdvLXNlY3JldC1rZXktbWF0ZXJpYWwAAAAAAAAAAA=="
done
expect_err "[show] ***"
ok "every line of a multi-line secret is redacted (env and file secrets)"

export SHORT=abc
sed -i 's/secret:env:PEM/secret:env:SHORT/' gantry.cfg
rm -f "$STATE"/journal/* "$TMP/calls"
run deploy v1.0.0
expect_rc 2
expect_err "gantry.cfg:5: secret '\${secret:env:SHORT}' of stage 'show' is shorter than 4 bytes, too short to keep out of logs; use a longer secret"
nothing_ran
printf 'ab\n' > short.txt
sed -i 's/secret:file:key.pem/secret:file:short.txt/; s/secret:env:SHORT/secret:env:PEM/' gantry.cfg
run deploy v1.0.0
expect_rc 2
expect_err "secret '\${secret:file:short.txt}' of stage 't' is shorter than 4 bytes"
nothing_ran
sed -i 's/token = "[^"]*"/token = "xyz"/' gantry.cfg
chmod 600 gantry.cfg
run config check
expect_rc 2
expect_err "gantry.cfg:6: option 'token' of stage 't' is a secret shorter than 4 bytes, too short to keep out of logs; use a longer secret"
ok "secrets shorter than 4 bytes are refused (env, file, in clear)"
