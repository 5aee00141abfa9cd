#!/bin/sh
# t1200: gantry batch FILE - validation before anything runs, -j,
# dependencies, failure propagation, exit codes, --fail-fast, --json,
# per-deploy logs, SIGINT, --dry-run, --matrix.
. "$top_srcdir/tests/lib.sh"

# svc NAME [PIPELINE ENTRY OPTIONS]: a service directory NAME/ with a
# gantry.cfg (service NAME, staging for v*-rc.*, production for other v*
# with approval) whose one tfix entry, named NAME, logs to $TMP/calls.
svc() {
	mkdir -p "$1/profiles"
	echo '# profile' > "$1/profiles/staging.cfg"
	echo '# profile' > "$1/profiles/production.cfg"
	cat > "$1/gantry.cfg" <<EOF
service = "$1";
environments = (
  { name = "staging"; tags = "v*-rc.*"; profile = "profiles/staging.cfg"; },
  { name = "production"; tags = "v*"; profile = "profiles/production.cfg"; approval = true; }
);
pipeline = ( { stage = "tfix"; name = "$1"; log = "$TMP/calls"; ${2:-} } );
EOF
}

# nothing_ran: no stage was called and no journal record was written.
nothing_ran() {
	[ ! -e "$TMP/calls" ] || fail "something ran: $(cat "$TMP/calls")"
	[ -z "$(ls "$STATE/journal" 2>/dev/null)" ] || fail "journal written"
	[ ! -d "$STATE/batch" ] || fail "batch logs created"
}

svc db
svc api
svc worker
mkdir -p ops

# ---- validation: every class of problem exits 2 and starts nothing ------

bad() {	# bad 'EXPECTED STDERR' < batch file body
	cat > ops/bad.cfg
	run batch ops/bad.cfg
	expect_rc 2 "$1"
	expect_err "$1"
	expect_err "nothing was started"
	nothing_ran
}

bad "ops/bad.cfg:1: unknown key 'nmae' in a deploy; did you mean 'name'?" <<'EOF'
deploys = ( { nmae = "db"; name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; } );
EOF
bad "unknown key 'deploy' in a batch file; did you mean 'deploys'?" <<'EOF'
deploy = ( { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; } );
EOF
bad "deploy #1 has no 'tag'" <<'EOF'
deploys = ( { name = "db"; config = "../db/gantry.cfg"; } );
EOF
bad "ops/bad.cfg:3: duplicate deploy name 'db' (first at ops/bad.cfg:2)" <<'EOF'
deploys = (
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "db"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.1"; }
);
EOF
bad "deploy 'api' comes after 'dbb', which is no deploy in ops/bad.cfg; did you mean 'db'?" <<'EOF'
deploys = (
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "api"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.1"; after = ["dbb"]; }
);
EOF
bad "dependency cycle: db -> worker -> api -> db" <<'EOF'
deploys = (
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; after = ["worker"]; },
  { name = "api"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.1"; after = ["db"]; },
  { name = "worker"; config = "../worker/gantry.cfg"; tag = "v1.0.0-rc.1"; after = ["api"]; }
);
EOF
bad "deploy 'web': config 'web/gantry.cfg' not found at 'ops/web/gantry.cfg'" <<'EOF'
deploys = ( { name = "web"; config = "web/gantry.cfg"; tag = "v1.0.0-rc.1"; } );
EOF
bad "deploy 'db': tag 'release-7' matches no environment's tags" <<'EOF'
deploys = ( { name = "db"; config = "../db/gantry.cfg"; tag = "release-7"; } );
EOF
bad "deploy 'db': unknown environment 'stagin' in" <<'EOF'
deploys = ( { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0"; env = "stagin"; } );
EOF
bad "environment 'production' of db needs approval; pass --approve" <<'EOF'
deploys = ( { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0"; } );
EOF
bad "deploys 'a' and 'b' (ops/bad.cfg:2) both deploy db to staging and neither comes after the other" <<'EOF'
deploys = (
  { name = "a"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "b"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.2"; }
);
EOF
ok "validation: unknown keys, missing keys, duplicates, unknown after, cycles, missing config, bad tag/env, approval, lock clashes -> exit 2, nothing started"

# A broken gantry.cfg of one deploy is reported with the deploy's name,
# and the sound deploys of the same batch do not start either.
svc broken 'actoin = "ok";'
bad "ops/bad.cfg:3: deploy 'broken': " <<'EOF'
deploys = (
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "broken"; config = "../broken/gantry.cfg"; tag = "v1.0.0-rc.1"; }
);
EOF
expect_err "did you mean 'action'?"
ok "a stage option error in one deploy's config stops the whole batch"

run --json batch ops/bad.cfg
expect_rc 2
[ "$(json_get "$TMP/out" 'd["exit_code"]')" = 2 ] || fail "json error document"
run -j 2 deploy v1.0.0-rc.1
expect_rc 2
expect_err "belong to 'batch'"
run -c db/gantry.cfg batch ops/bad.cfg
expect_rc 2
expect_err "'gantry batch' does not take -c"
nothing_ran
ok "--json validation failure prints one document; -j elsewhere and -c with batch are usage errors"

# ---- -j 1: file order, but 'after' first ----------------------------------

cat > ops/order.cfg <<'EOF'
deploys = (
  { name = "api"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.1"; after = ["db"]; },
  { name = "worker"; config = "../worker/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.1"; }
);
EOF
run batch ops/order.cfg
expect_rc 0
[ "$(cat calls)" = "worker run ok
db run ok
api run ok" ] || fail "order: $(cat calls)"
expect_out "3 of 3 deploys succeeded; exit 0"
ok "-j 1 runs one at a time in file order, a deploy only after what it comes after"

# Each deploy ran in its config's directory with its own journal record.
for s in db api worker; do
	grep -q "\"service\": \"$s\"" "$STATE"/journal/*.json ||
		fail "no journal record of $s"
done
ok "each deploy is a normal deploy with its own journal record"

# ---- -j 3: independent deploys overlap ------------------------------------

# Each stage runs until the test has seen all three running at once: run
# one at a time, the first would hold the others back and the wait fail.
# (Not a wall-time bound such as "three 2-second stages in < 5 s", which
# a busy machine misses.)
hold="action = \"wait\"; wait_file = \"$TMP/release\"; seconds = 300;"
svc s1 "$hold"
svc s2 "$hold"
svc s3 "$hold"
cat > ops/par.cfg <<'EOF'
deploys = (
  { name = "s1"; config = "../s1/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "s2"; config = "../s2/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "s3"; config = "../s3/gantry.cfg"; tag = "v1.0.0-rc.1"; }
);
EOF
rm -f calls "$TMP/release"
three_running() { [ "$(grep -c ' run wait$' calls 2>/dev/null)" = 3 ]; }
"$top_builddir/gantry" --json batch ops/par.cfg -j 3 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_until 60 "the three deploys' stages to run at the same time" three_running
released=$(date +%s.%N)
touch "$TMP/release"
wait "$bg"
rc=$?
BG_PIDS=""
cp "$TMP/bg.out" "$TMP/out"
cp "$TMP/bg.err" "$TMP/err"
expect_rc 0
python3 - "$TMP/out" "$STATE" "$released" <<'PY' || fail "overlap"
import json, sys
d = json.load(open(sys.argv[1]))
released = float(sys.argv[3])
recs = {x["name"]: json.load(open("%s/journal/%s.json" % (sys.argv[2], x["deploy_id"])))
        for x in d["deploys"]}
# Every deploy started before the release and finished after it: they
# ran at the same time, and each one's duration spans its wait.
assert max(r["started"] for r in recs.values()) < released < min(r["finished"] for r in recs.values()), recs
assert all(x["duration"] >= released - recs[x["name"]]["started"] for x in d["deploys"]), d
PY
ok "-j 3 runs three deploys at once (all three stages seen running together; overlapping journal times)"

# ---- failures: dependents skipped, exit codes by severity ----------------

rm -f calls
svc bad1 'action = "fail";'
cat > ops/fail.cfg <<'EOF'
deploys = (
  { name = "bad1"; config = "../bad1/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "api"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.2"; after = ["bad1"]; },
  { name = "worker"; config = "../worker/gantry.cfg"; tag = "v1.0.0-rc.2"; after = ["api"]; },
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.2"; }
);
EOF
run batch ops/fail.cfg -j 2
expect_rc 1
expect_file_lacks calls "api run"
expect_file_lacks calls "worker run"
expect_file_has calls "db run ok"
expect_out "api: skipped: 'bad1' failed"
expect_out "worker: skipped: 'api' was skipped"
expect_out "bad1: failed: told to fail"
expect_err "api     skipped"
ok "a failed deploy skips its dependents (transitively), independent ones still run, exit 1"

svc rb 'action = "rolled-back";'
svc rbf 'action = "rollback-failed";'
cat > ops/rb.cfg <<'EOF'
deploys = (
  { name = "rb"; config = "../rb/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0-rc.3"; }
);
EOF
run batch ops/rb.cfg
expect_rc 3
expect_out "rolled_back"
cat > ops/rbf.cfg <<'EOF'
deploys = (
  { name = "bad1"; config = "../bad1/gantry.cfg"; tag = "v1.0.0-rc.2"; },
  { name = "rbf"; config = "../rbf/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "rb"; config = "../rb/gantry.cfg"; tag = "v1.0.0-rc.2"; }
);
EOF
run batch ops/rbf.cfg -j 3
expect_rc 4
expect_out "rollback_failed"
ok "exit code is the most severe: rolled back 3, rollback failed 4 over 3 over 1"

# ---- --fail-fast ------------------------------------------------------------

rm -f calls
cat > ops/ff.cfg <<'EOF'
deploys = (
  { name = "bad1"; config = "../bad1/gantry.cfg"; tag = "v1.0.0-rc.3"; },
  { name = "api"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.4"; },
  { name = "worker"; config = "../worker/gantry.cfg"; tag = "v1.0.0-rc.4"; }
);
EOF
run batch ops/ff.cfg --fail-fast
expect_rc 1
[ "$(cat calls)" = "bad1 run fail" ] || fail "fail-fast ran: $(cat calls)"
expect_out "api: skipped: not started: --fail-fast after 'bad1' failed"
run batch ops/ff.cfg
expect_rc 1
expect_file_has calls "worker run ok"
ok "--fail-fast starts nothing after a failure; without it independent deploys go on"

# ---- --json and the log files -------------------------------------------------

run --json batch ops/fail.cfg -j 2
expect_rc 1
python3 - "$TMP/out" "$STATE" <<'PY' || fail "json document"
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["exit_code"] == 1 and d["batch"], d
by = {x["name"]: x for x in d["deploys"]}
assert [x["name"] for x in d["deploys"]] == ["bad1", "api", "worker", "db"]
for x in d["deploys"]:
    assert set(["name", "config", "env", "tag", "result", "exit_code",
                "duration", "deploy_id", "log"]) <= set(x), x
b = by["bad1"]
assert b["result"] == "failed" and b["exit_code"] == 1, b
assert b["env"] == "staging" and b["tag"] == "v1.0.0-rc.1", b
assert b["config"] == "ops/../bad1/gantry.cfg", b
rec = json.load(open("%s/journal/%s.json" % (sys.argv[2], b["deploy_id"])))
assert rec["result"] == "failed", rec
assert by["db"]["result"] == "succeeded" and by["db"]["exit_code"] == 0
assert by["api"]["result"] == "skipped" and by["api"]["exit_code"] is None
assert by["api"]["log"] is None and by["api"]["deploy_id"] is None
log = b["log"]
assert log == "%s/batch/%s/bad1.log" % (sys.argv[2], d["batch"]), log
assert "told to fail" in open(log).read()
assert os.path.exists("%s/batch/%s/summary.json" % (sys.argv[2], d["batch"]))
PY
ok "--json: one document with batch id, every deploy's fields, exit code; journal ids match"

run batch ops/order.cfg
log=$(awk '$1 == "db" {print $NF}' "$TMP/out")
[ -f "$log" ] || fail "log named in the summary is missing: $log"
expect_file_has "$log" "[1/1] db succeeded"
expect_file_has "$log" "db v1.0.0-rc.1 -> staging (by tester)"
expect_err "db      started (log $log)"
ok "each deploy's stderr is kept in a log file named in the status and summary"

# ---- approval ------------------------------------------------------------------

cat > ops/prod.cfg <<'EOF'
deploys = ( { name = "db"; config = "../db/gantry.cfg"; tag = "v1.0.0"; } );
EOF
run batch ops/prod.cfg --approve
expect_rc 0
[ "$(json_get "$(last_record)" 'd["approved_by"]')" = tester ] || fail "approved_by"
ok "--approve is passed to every deploy"

# ---- SIGINT --------------------------------------------------------------------

rm -f calls "$TMP/release"
# (stages that run until interrupted, not for a time the test must beat)
svc long1 "$hold on_failure = \"rollback\";"
svc long2 "$hold"
cat > ops/long.cfg <<'EOF'
deploys = (
  { name = "long1"; config = "../long1/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "long2"; config = "../long2/gantry.cfg"; tag = "v1.0.0-rc.1"; },
  { name = "after"; config = "../api/gantry.cfg"; tag = "v1.0.0-rc.9"; after = ["long1"]; }
);
EOF
"$top_builddir/gantry" batch ops/long.cfg -j 3 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "long1 run wait"
wait_for calls "long2 run wait"
t0=$(date +%s)
kill -INT "$bg"
wait "$bg"
rc=$?
BG_PIDS=""
cp "$TMP/bg.out" "$TMP/out"
cp "$TMP/bg.err" "$TMP/err"
expect_rc 130
[ $(( $(date +%s) - t0 )) -lt 10 ] || fail "interrupt took too long"
expect_file_has calls "long1 interrupted"
expect_file_has calls "long2 interrupted"
expect_file_lacks calls "api run"
expect_err "interrupted: stopping 2 running deploys"
[ "$(awk '$1 == "long1" {print $4, $5}' "$TMP/out")" = "interrupted 130" ] ||
	fail "long1 not interrupted in the summary"
expect_out "after: skipped: not started: the batch was interrupted"
expect_out "; exit 130"
run lock staging -c long1/gantry.cfg
expect_rc 0
ok "SIGINT: running deploys interrupted (exit 130 each), nothing new starts, summary, exit 130, locks released"

# ---- --dry-run -------------------------------------------------------------------

rm -f calls
nrec=$(ls "$STATE/journal" | wc -l)
run batch ops/order.cfg --dry-run -j 2
expect_rc 0
expect_file_lacks calls " run "
expect_file_has calls "api plan ok"
expect_file_has calls "db plan ok"
[ "$(ls "$STATE/journal" | wc -l)" = "$nrec" ] || fail "dry run wrote journal records"
expect_out "planned"
ok "--dry-run validates and plans every deploy; no stage runs, no journal record"

# ---- --matrix ----------------------------------------------------------------------

rm -f calls
cat > ops/waves.cfg <<'EOF'
deploys = (
  { name = "api"; config = "../api/gantry.cfg"; tag = "v2.0.0-rc.1"; after = ["db"]; },
  { name = "db"; config = "../db/gantry.cfg"; tag = "v2.0.0-rc.1"; },
  { name = "worker"; config = "../worker/gantry.cfg"; tag = "v2.0.0"; env = "staging"; },
  { name = "rb"; config = "../rb/gantry.cfg"; tag = "v2.0.0-rc.1"; after = ["api", "worker"]; }
);
EOF
run batch ops/waves.cfg --matrix
expect_rc 0
python3 - "$TMP/out" <<'PY' || fail "matrix"
import json, sys
d = json.load(open(sys.argv[1]))
waves = [[x["name"] for x in w["include"]] for w in d["waves"]]
assert waves == [["db", "worker"], ["api"], ["rb"]], waves
w = d["waves"][0]["include"][1]
assert w == {"name": "worker", "config": "ops/../worker/gantry.cfg",
             "tag": "v2.0.0", "env": "staging"}, w
PY
nothing_ran_calls() { [ ! -e "$TMP/calls" ] || fail "matrix ran something"; }
nothing_ran_calls
ok "--matrix prints the waves as GitHub Actions matrices and runs nothing"
