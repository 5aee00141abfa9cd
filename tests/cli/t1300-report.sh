#!/bin/sh
# t1300: gantry report - metrics from the journal as text, JSON and one
# self-contained HTML page.  (The page in headless Chromium: t1310.)
. "$top_srcdir/tests/lib.sh"

need git "apt-get install git"

. "$top_srcdir/tests/cli/lib-report.sh"

run report
expect_rc 0
expect_out "no deploys in this period"
ok "an empty journal gives an empty report"

report_deploys

# staging: ok, failed, ok (undone by the rollback), rolled back, and the
# rollback deploy: 5 deploys, 3 change failures of 5 finished.
run report
expect_rc 0
expect_out "svc / staging"
expect_out "svc / production"
expect_out "change failures   60% (3 of 5 finished)"
expect_out "1 rollback deploys"
expect_out "undone by a rollback deploy"
expect_out "build"
ok "text report: the change-failure rate counts failures, rollbacks and rolled-back releases"

run report --json
expect_rc 0
json_get "$TMP/out" 'd' >/dev/null || fail "--json is one JSON document"
g='[x for x in d["groups"] if x["environment"] == "staging"][0]'
[ "$(json_get "$TMP/out" "$g[\"deploys\"]")" = 5 ] || fail "5 staging deploys"
[ "$(json_get "$TMP/out" "$g[\"change_failures\"]")" = 3 ] || fail "3 change failures"
[ "$(json_get "$TMP/out" "$g[\"change_failure_rate\"]")" = 0.6 ] || fail "rate 0.6"
[ "$(json_get "$TMP/out" "$g[\"rollback_deploys\"]")" = 1 ] || fail "1 rollback deploy"
[ "$(json_get "$TMP/out" "$g[\"lead_time\"][\"count\"]")" = 2 ] || fail "2 lead times"
json_get "$TMP/out" "7150 < $g[\"lead_time\"][\"median\"] < 7300" | grep -q True ||
	fail "lead time is about two hours"
[ "$(json_get "$TMP/out" "$g[\"time_to_restore\"][\"count\"]")" = 1 ] || fail "1 restore"
json_get "$TMP/out" "[s['name'] for s in $g['stages']] == ['build', 'deploy']" |
	grep -q True || fail "stages in pipeline order"
[ "$(json_get "$TMP/out" "$g[\"slowest_stage\"]")" = build ] || fail "slowest stage"
json_get "$TMP/out" "$g['stages'][0]['median'] >= 1" | grep -q True ||
	fail "build median at least 1 s"
[ "$(json_get "$TMP/out" "len($g[\"timeline\"])")" = 5 ] || fail "timeline"
[ "$(json_get "$TMP/out" "$g[\"timeline\"][1][\"failed_stage\"]")" = deploy ] ||
	fail "failed stage in the timeline"
run report --format json production
[ "$(json_get "$TMP/out" 'len(d["groups"])')" = 1 ] || fail "ENV filter"
[ "$(json_get "$TMP/out" 'd["groups"][0]["deploys_per_day"] > 0')" = True ] ||
	fail "deploys per day"
ok "json report: documented fields, ENV filter"

run report --since "$(date -u -d tomorrow +%Y-%m-%d)" --until 400d
expect_rc 2
expect_err "is not before --until"
run report --until "$(date -u -d '2 days ago' +%Y-%m-%d)" --since 9d
expect_rc 0
expect_out "no deploys in this period"
run report --since 1d --service other
expect_rc 0
expect_out "no deploys in this period"
run report --since yesterday
expect_rc 2
expect_err "--since 'yesterday' is not a date"
run report --format htm
expect_rc 2
expect_err "did you mean 'html'?"
run report --json --format html
expect_rc 2
run report stagin
expect_rc 2
expect_err "did you mean 'staging'?"
run history --since 1d
expect_rc 2
expect_err "belong to 'report'"
run repor
expect_rc 2
expect_err "did you mean 'report'?"
run help report
expect_rc 0
expect_out "--since D"
ok "window, filters and usage errors"

# The default --until is now, to the millisecond: a deploy that started
# earlier in the current second is in the window.  (Cut to whole seconds,
# `report` run right after a quick deploy said "no deploys in this period",
# while the same report a second later showed it.)
mkdir -p "$TMP/state-now"
chmod 700 "$TMP/state-now"
pipeline ok
GANTRY_STATE_DIR="$TMP/state-now" run deploy v3.0.0-rc.1
expect_rc 0
GANTRY_STATE_DIR="$TMP/state-now" python3 - "$top_builddir/gantry" "$TMP/state-now" >"$TMP/now.out" 2>&1 <<'PY' ||
import glob, json, math, subprocess, sys, time
rec = glob.glob(sys.argv[2] + "/journal/*.json")[0]
d = json.load(open(rec))
t = time.time()
if t - math.floor(t) > 0.5:          # leave half a second to run the report
    time.sleep(math.ceil(t) - t)
    t = time.time()
d["started"] = math.floor(t) + 0.001
d["finished"] = d["started"] + 0.001
json.dump(d, open(rec, "w"))
out = subprocess.run([sys.argv[1], "report", "--json"], capture_output=True, text=True)
assert time.time() < math.floor(t) + 1, "too slow to test"
print(out.stdout, out.stderr)
g = json.loads(out.stdout)["groups"]
sys.exit(0 if len(g) == 1 and g[0]["deploys"] == 1 else 1)
PY
	{ cat "$TMP/now.out" >&2; fail "a deploy started earlier in this second is not in the default window"; }
ok "the default window ends now, not at the start of the current second"

run report --format html -o "$TMP/report.html"
expect_rc 0
expect_err "report written to $TMP/report.html"
html="$TMP/report.html"
[ "$(grep -o 'class="deploy-mark' "$html" | wc -l)" = 6 ] || fail "6 marks in the HTML"
expect_file_has "$html" "prefers-color-scheme:dark"
expect_file_has "$html" "@media print"
expect_file_lacks "$html" "<script"
expect_file_lacks "$html" "src="
expect_file_has "$html" "v1.1.0-rc.1 - failed"
expect_file_has "$html" "failing stage: deploy"
run report --format html -o "$TMP/no/such/dir/r.html"
expect_rc 1
expect_err "cannot write"
ok "html report written with -o"
