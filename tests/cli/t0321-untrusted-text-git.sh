#!/bin/sh
# t0321: a git tag annotation that is not UTF-8 and holds control
# characters (published by git-release as release.notes) is journalled as
# valid UTF-8 JSON and does not reach the terminal raw.  Needs git.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/cli/lib-untrusted-text.sh"

need git "apt-get install git"

GIT_CONFIG_GLOBAL=/dev/null
GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM
gitc() {
	git -C "$TMP/repo" -c user.name=t -c user.email=t@e \
		-c commit.gpgsign=false -c tag.gpgsign=false "$@" >/dev/null 2>&1 ||
		fail "git $*"
}
git init -q -b main "$TMP/repo" || fail "git init"
echo one > "$TMP/repo/app.txt"
gitc add app.txt
gitc commit -q -m "first"
gitc tag -a v2.0.0-rc.1 -m "$(printf 'caf\351 \377 notes\n\n\033[2Kdone')"
write_cfg <<'CFG'
pipeline = ( { stage = "git-release"; repo = "repo"; } );
CFG
run deploy v2.0.0-rc.1
expect_rc 0
parses "$(last_record)" || fail "the journal record is not valid UTF-8 JSON"
[ "$(json_get "$(last_record)" 'd["stages"][0]["outputs"]["release.notes"].startswith("caf\ufffd \ufffd notes")')" = True ] ||
	fail "notes: $(json_get "$(last_record)" 'repr(d["stages"][0]["outputs"]["release.notes"])')"
no_raw_controls "$TMP/err"
run --json deploy v2.0.0-rc.1
parses "$TMP/out" || fail "--json deploy is not valid UTF-8 JSON"
ok "a tag annotation that is not UTF-8 is published as valid JSON"
