# lib-report.sh - the journal the report tests (t1300, t1310) read: a
# release commit made two hours ago in $TMP (report reads its time with
# git for the lead time, so git is needed), and report_deploys.  Sourced
# after lib.sh.

GIT_CONFIG_GLOBAL=/dev/null
GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM
two_hours_ago=$(( $(date +%s) - 7200 ))
git init -q "$TMP" || fail "git init"
echo app > "$TMP/app.txt"
git -C "$TMP" add app.txt >/dev/null 2>&1 || fail "git add"
GIT_COMMITTER_DATE="@$two_hours_ago +0000" GIT_AUTHOR_DATE="@$two_hours_ago +0000" \
	git -C "$TMP" -c user.name=t -c user.email=t@e -c commit.gpgsign=false \
	commit -q -m release >/dev/null 2>&1 || fail "git commit"
COMMIT=$(git -C "$TMP" rev-parse HEAD)

# pipeline ACTION: build takes a second, deploy does ACTION.
pipeline() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "build"; action = "sleep"; seconds = 1;
    outputs = ["release.commit=$COMMIT"]; },
  { stage = "tfix"; name = "deploy"; action = "$1"; }
);
CFG
}

# report_deploys: six deploys.  staging: ok, failed, ok (undone by the
# rollback), rolled back, and the rollback deploy; production: ok.
report_deploys() {
	pipeline ok
	run deploy v1.0.0-rc.1
	expect_rc 0
	pipeline fail
	run deploy v1.1.0-rc.1
	expect_rc 1
	pipeline ok
	run deploy v1.1.0-rc.2
	expect_rc 0
	pipeline rolled-back
	run deploy v1.2.0-rc.1
	expect_rc 3
	pipeline ok
	run rollback staging
	expect_rc 0
	run deploy v1.0.0 --approve
	expect_rc 0
}
