#!/bin/sh
# t2400: the git-release stage against real git repositories: the tag
# grammar, tags on and off the release branch, annotated tags and notes,
# CI release events, promotion from staging through the journal, the
# private worktree, and plan.
. "$top_srcdir/tests/lib.sh"

command -v git >/dev/null 2>&1 || { echo "SKIP: git is not installed"; exit 77; }

# No user or system git configuration leaks in (signing, hooks, names).
GIT_CONFIG_GLOBAL=/dev/null
GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM
gitc() {
	git -C "$TMP/repo" -c user.name=t -c user.email=t@e \
		-c commit.gpgsign=false -c tag.gpgsign=false "$@" >/dev/null 2>&1 ||
		fail "git $*"
}
sha() { git -C "$TMP/repo" rev-parse "$1^{commit}"; }

# The repository: main has app.txt "one" tagged v1.0.0-rc.1 (annotated,
# with notes), v1.0.0, v2.0.0-rc.1 and v1.0.1-rc.1 (lightweight), then
# "two"; branch feature, not merged, carries v1.1.0-rc.1.
git init -q -b main "$TMP/repo" || fail "git init"
echo one > "$TMP/repo/app.txt"
gitc add app.txt
gitc commit -q -m "first"
gitc tag -a v1.0.0-rc.1 -m "Address lookup by postcode

Adds GET /v1/addresses?postcode=..."
gitc tag -a v1.0.0 -m "v1.0.0 production release"
gitc tag -a v2.0.0-rc.1 -m "two, early"
gitc tag -a v2.0.0 -m "two"
gitc tag v1.0.1-rc.1
gitc checkout -q -b feature
echo feature > "$TMP/repo/feature.txt"
gitc add feature.txt
gitc commit -q -m "not merged yet"
gitc tag -a v1.1.0-rc.1 -m "from a branch"
gitc checkout -q main
echo two > "$TMP/repo/app.txt"
gitc commit -q -am "second"

export ACT=ok
# cfg [GIT-RELEASE OPTIONS] [MORE PIPELINE ENTRIES] (repo: $REPO, default
# "repo"): production needs a
# staging candidate (promote_from); "after" runs when git-release passed.
cfg() {
	mkdir -p profiles
	echo '# staging' > profiles/staging.cfg
	echo '# production' > profiles/production.cfg
	cat > gantry.cfg <<EOF
service = "svc";
environments = (
  { name = "staging"; tags = "v*-rc.*"; profile = "profiles/staging.cfg"; },
  { name = "production"; tags = "v*"; profile = "profiles/production.cfg";
    promote_from = "staging"; }
);
pipeline = (
  { stage = "git-release"; repo = "${REPO:-repo}"; ${1:-} },
  { stage = "tfix"; name = "after"; log = "calls"; action = "\${env:ACT}"; }${2:+,
  $2}
);
EOF
}
out() { json_get "$(last_record)" "d['stages'][0]['outputs'].get('$1')"; }

cfg
run deploy v1.0.0-rc.1
expect_rc 0 "rc tag on main"
expect_err "[git-release] commit $(sha v1.0.0-rc.1 | cut -c1-12) (annotated tag)"
expect_err "on branch 'main': yes"
[ "$(json_get "$(last_record)" 'd["environment"]')" = staging ] || fail "environment"
[ "$(out release.commit)" = "$(sha v1.0.0-rc.1)" ] || fail "release.commit: $(out release.commit)"
[ "$(out release.short_commit)" = "$(sha v1.0.0-rc.1 | cut -c1-12)" ] || fail "release.short_commit"
[ "$(out release.prerelease)" = true ] || fail "release.prerelease"
[ "$(out release.branch)" = main ] || fail "release.branch"
[ "$(out release.version)" = 1.0.0-rc.1 ] || fail "release.version"
[ "$(json_get "$(last_record)" 'd["stages"][0]["outputs"]["release.notes"]')" = "Address lookup by postcode

Adds GET /v1/addresses?postcode=..." ] || fail "release.notes: $(out release.notes)"
ok "an rc tag on main deploys to staging and publishes commit, notes, prerelease"

run deploy v1.0.1-rc.1
expect_rc 0 "lightweight tag, not required annotated"
[ "$(out release.notes)" = "" ] || fail "a lightweight tag has no notes"
cfg 'require_annotated = true;'
rm -f calls
run deploy v1.0.1-rc.1
expect_rc 1
expect_err "tag 'v1.0.1-rc.1' is a lightweight tag, and option 'require_annotated' asks for an annotated one"
[ ! -f calls ] || fail "a later stage ran"
ok "a lightweight tag is refused with require_annotated"

cfg
run deploy v1.1.0-rc.1
expect_rc 1
expect_err "tag 'v1.1.0-rc.1' points at $(sha v1.1.0-rc.1 | cut -c1-12), which is not on branch 'main'; merge the change first"
cfg 'require_on_branch = false;'
run deploy v1.1.0-rc.1
expect_rc 0 "require_on_branch = false"
cfg 'branch = "feature";'
run deploy v1.1.0-rc.1
expect_rc 0 "branch = feature"
[ "$(out release.branch)" = feature ] || fail "release.branch feature"
cfg 'remote = "origin";'
run deploy v1.0.0-rc.1
expect_rc 1
expect_err "branch 'origin/main' is not known in"
expect_err "git fetch origin main"
git -C "$TMP/repo" update-ref refs/remotes/origin/main "$(sha v1.0.0-rc.1)"
run deploy v1.0.0-rc.1
expect_rc 0 "remote branch present"
expect_err "on branch 'origin/main': yes"
ok "a tag off the release branch is refused with its commit; branch, remote and the switch work"

cfg
run deploy v9.9.9-rc.1
expect_rc 1
expect_err "tag 'v9.9.9-rc.1' does not exist in $TMP/repo; create and push it"
REPO=nowhere cfg
run deploy v1.0.0-rc.1
expect_rc 1
expect_err "cannot read tags in '$TMP/nowhere'"
ok "a missing tag and a missing repository are refused"

cfg
# (v1.2.3-rc. is no git tag name at all: the core refuses it, t0120)
for t in v1.2 1.2.3 v01.2.3 v1.2.3-beta v1.2.3-rc.01 v1.2.3-rc V1.2.3 v1.2.3.4; do
	rm -f calls
	run -e staging deploy "$t"
	expect_rc 1 "tag $t"
	expect_err "tag '$t' is not a release tag: use vMAJOR.MINOR.PATCH or vMAJOR.MINOR.PATCH-rc.N (e.g. v0.1.0-rc.1)"
	[ ! -f calls ] || fail "a later stage ran for $t"
done
ok "malformed tags are refused before anything runs"

# CI release events (GitHub release payloads).
event() { # FILE TAG PRERELEASE DRAFT [ACTION]
	cat > "$1" <<EOF
{ "action": "${5:-published}",
  "release": { "tag_name": "$2", "prerelease": $3, "draft": $4,
               "body": "from the release form" },
  "repository": { "full_name": "acme/address-api" } }
EOF
}
event ev.json v1.0.0-rc.1 true false
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.0-rc.1
expect_rc 0 "agreeing event"
expect_err "tag and pre-release flag agree"
[ "$(out release.repository)" = acme/address-api ] || fail "release.repository"
event ev.json v1.0.1-rc.1 true false
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.1-rc.1
expect_rc 0 "agreeing event, lightweight tag"
[ "$(out release.notes)" = "from the release form" ] || fail "notes from the release body"
ok "an agreeing release event passes and names the repository"

event ev.json v1.0.0-rc.2 true false
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.0-rc.1
expect_rc 1
expect_err "the release event is for tag 'v1.0.0-rc.2', not 'v1.0.0-rc.1'"
cfg "event_path = \"$TMP/ev.json\";"
run deploy v1.0.0-rc.1
expect_rc 1 "event_path option"
expect_err "the release event is for tag 'v1.0.0-rc.2', not 'v1.0.0-rc.1'"
cfg
ok "an event for another tag is refused (GITHUB_EVENT_PATH and event_path)"

event ev.json v1.0.0-rc.1 false false
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.0-rc.1
expect_rc 1
expect_err "release v1.0.0-rc.1 is not published as a pre-release, but a release candidate deploys to staging; edit the release and tick 'Set as a pre-release'"
event ev.json v1.0.0 true false
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.0
expect_rc 1
expect_err "release v1.0.0 is published as a pre-release, but a final tag deploys to production; edit the release and untick 'Set as a pre-release'"
ok "a wrong pre-release flag is refused both ways"

event ev.json v1.0.0-rc.1 true true
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.0-rc.1
expect_rc 1
expect_err "release v1.0.0-rc.1 is still a draft; publish it first"
event ev.json v1.0.0-rc.1 true false deleted
GITHUB_EVENT_PATH="$TMP/ev.json" run deploy v1.0.0-rc.1
expect_rc 1
expect_err "release v1.0.0-rc.1 was deleted"
echo '{ "ref": "refs/heads/main", "repository": { "full_name": "acme/address-api" } }' > push.json
GITHUB_EVENT_PATH="$TMP/push.json" run deploy v1.0.0-rc.1
expect_rc 0 "push event"
expect_err "is not a release event; not checked"
[ "$(out release.repository)" = None ] || fail "no release.repository without a release event"
echo '{ "release": ' > bad.json
GITHUB_EVENT_PATH="$TMP/bad.json" run deploy v1.0.0-rc.1
expect_rc 1
expect_err "the CI event file '$TMP/bad.json' is not JSON"
GITHUB_EVENT_PATH="$TMP/absent.json" run deploy v1.0.0-rc.1
expect_rc 0 "missing event file"
ok "drafts, deleted releases and broken payloads are refused; other events are not checked"

# Promotion: the journal of this state directory is the evidence.
rm -rf "$STATE"
rm -f calls
run deploy v1.0.0
expect_rc 1
expect_err "production v1.0.0 needs a successful staging deploy of v1.0.0-rc.N first, and the journal has none; deploy a release candidate to staging, or pass --force-promotion"
[ ! -f calls ] || fail "a later stage ran"
ok "production without a staging candidate is refused"

run deploy v2.0.0-rc.1
expect_rc 0 "another version's candidate"
ACT=fail run deploy v1.0.0-rc.1
expect_rc 1 "failed staging deploy"
run deploy v1.0.0
expect_rc 1
expect_err "and the journal has none"
ok "a failed staging deploy and another version's candidate do not count"

run -e production deploy v1.0.0-rc.1
expect_rc 1
expect_err "production takes releases promoted from staging, and v1.0.0-rc.1 is a release candidate"
ok "a release candidate is not promoted to production"

run deploy v1.0.0 --force-promotion
expect_rc 0 "--force-promotion"
expect_err "promotion check overridden with --force-promotion"
[ "$(json_get "$(last_record)" 'd["forced_promotion"]')" = True ] || fail "forced_promotion journaled"
[ "$(out release.promotion)" = forced ] || fail "release.promotion"
ok "--force-promotion overrides the check, warns and is journaled"

run deploy v1.0.0-rc.1
expect_rc 0 "staging candidate"
run deploy v1.0.0
expect_rc 0 "promoted"
expect_err "promotion: v1.0.0-rc.1 passed staging"
[ "$(out release.promoted_from)" = v1.0.0-rc.1 ] || fail "release.promoted_from"
[ "$(json_get "$(last_record)" 'd["forced_promotion"]')" = False ] || fail "not forced"
[ "$(out release.prerelease)" = false ] || fail "a final tag is no prerelease"
ok "after a successful staging candidate, production takes the final tag"

# The worktree: a checkout of the tag for the stages after.
cfg 'worktree = true;' '{ stage = "exec"; name = "look"; command = ["cat", "${release.worktree}/app.txt"]; }'
run deploy v1.0.0-rc.1
expect_rc 0 "worktree"
expect_err "[look] one"
wt=$(out release.worktree)
case "$wt" in
"$TMP/repo/.git/gantry-worktrees/"*) ;;
*) fail "worktree at $wt" ;;
esac
[ -f "$wt/app.txt" ] || fail "the worktree is there after the deploy"
git -C "$TMP/repo" worktree list | grep -qF "$wt" || fail "git knows the worktree"
[ "$(cat "$TMP/repo/app.txt")" = two ] || fail "the main checkout was touched"
ok "worktree = true checks the tag out for the following stages"

touch -d '2 days ago' "$wt"
cfg 'worktree = true;' '{ stage = "exec"; name = "fail"; command = ["false"]; on_failure = "rollback"; }'
run deploy v1.0.0-rc.1
expect_rc 3 "rolled back"
expect_err "removing the worktree of an old deploy"
[ ! -e "$wt" ] || fail "the old worktree was not pruned"
wt2=$(out release.worktree)
[ -n "$wt2" ] && [ "$wt2" != None ] || fail "no worktree published"
[ ! -e "$wt2" ] || fail "rollback left the worktree $wt2"
[ "$(git -C "$TMP/repo" worktree list | wc -l)" = 1 ] || fail "git still lists worktrees"
ok "rollback removes the worktree; worktrees older than a day are pruned"

cfg 'worktree = true;' '{ stage = "exec"; name = "fail"; command = ["sh", "-c", "rm -rf \"$0\"; false", "${release.worktree}"]; on_failure = "rollback"; }'
run deploy v1.0.0-rc.1
expect_rc 3 "a worktree already gone is rolled back cleanly"
[ "$(git -C "$TMP/repo" worktree list | wc -l)" = 1 ] || fail "git still lists the removed worktree"
ok "rollback of a worktree that is already gone succeeds and prunes git's record"

# plan: every check, nothing written.
rm -rf "$STATE"
cfg
run plan v1.0.0-rc.1
expect_rc 0
expect_err "tag v1.0.0-rc.1: a release candidate"
expect_err "commit $(sha v1.0.0-rc.1 | cut -c1-12) (annotated tag)"
expect_err "on branch 'main': yes"
expect_err "no CI release event"
run plan v1.0.0
expect_rc 1
expect_err "production v1.0.0 needs a successful staging deploy of v1.0.0-rc.N first"
run deploy --dry-run --force-promotion v1.0.0
expect_rc 0
expect_err "promotion: none found in staging, overridden with --force-promotion"
cfg 'worktree = true;'
run plan v1.1.0-rc.1
expect_rc 1
expect_err "which is not on branch 'main'"
[ ! -d "$STATE/journal" ] || fail "plan wrote a journal"
[ ! -d "$TMP/repo/.git/gantry-worktrees" ] || [ -z "$(ls "$TMP/repo/.git/gantry-worktrees")" ] || fail "plan made a worktree"
ok "plan shows the checks and their verdicts without side effects"
