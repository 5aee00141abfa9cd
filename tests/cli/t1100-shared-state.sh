#!/bin/sh
# t1100: the shared state backend: journal in S3 (s3rver), lock as a
# DynamoDB lease (dynalite), both real emulators from npm on loopback.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/servers/emulators.sh"

shared_state_start

# state_group SECONDS: the state group, with a lease of that many seconds.
state_group() {
	echo "state = { backend = \"aws\"; bucket = \"gantry-journal\"; table = \"gantry-locks\"; prefix = \"teams/web\"; lease_seconds = $1; };"
}
STATE_GROUP=$(state_group 3)

# lock_item: the lock item of svc/staging as the table holds it.
lock_item() {
	awsc dynamodb get-item --endpoint-url "$DYNAMODB_URL" \
		--table-name gantry-locks --consistent-read \
		--key '{"id": {"S": "svc@staging"}}' || fail "get-item"
	# (the CLI prints nothing when there is no item)
	if [ -s "$TMP/aws.out" ]; then cat "$TMP/aws.out"; else echo '{}'; fi
}

# kill_deploy PID: kill -9 a deploy and its stage's process group.
kill_deploy() {
	kids=$(ps -o pid= --ppid "$1" 2>/dev/null)
	kill -9 "$1"
	for k in $kids; do
		kill -9 -- "-$k" 2>/dev/null
	done
	wait "$1" 2>/dev/null
	BG_PIDS=$(echo "$BG_PIDS" | sed "s/ *\\b$1\\b//")
}

# lock_stale: 'gantry lock staging' reports the lease expired.
lock_stale() {
	run lock staging
	[ "$rc" = 0 ] && grep -qF STALE "$TMP/out"
}

# wait_stale: until the killed holder's lease has run out, as gantry sees
# it (no sleep long enough for a lease to expire: on a loaded machine
# nothing is long enough; the deadline only ends a broken run).
wait_stale() { wait_until 60 "the killed holder's lease to expire" lock_stale; }

# past EPOCH: the wall clock is past that second.
past() { [ "$(date +%s)" -gt "$1" ]; }

write_cfg <<CFG
$STATE_GROUP
pipeline = ( { stage = "tfix"; name = "a"; log = "calls"; outputs = ["image.uri=repo:\${release.tag}"]; } );
CFG

# ---- the journal is shared ------------------------------------------------

run deploy v1.0.0-rc.1
expect_rc 0 "first deploy"
awsc s3api list-objects-v2 --endpoint-url "$S3_URL" --bucket gantry-journal \
	--prefix teams/web/svc/staging/ || fail "list-objects"
grep -q '"Key": "teams/web/svc/staging/[0-9T]*Z-[0-9a-f]*\.json"' "$TMP/aws.out" ||
	fail "no record under s3://gantry-journal/teams/web/svc/staging/: $(cat "$TMP/aws.out")"
[ ! -e "$STATE/journal" ] || fail "a journal record was written locally"
id1=$(sed -n 's/.*"Key": "teams\/web\/svc\/staging\/\(.*\)\.json".*/\1/p' "$TMP/aws.out")
awsc s3 cp --endpoint-url "$S3_URL" \
	"s3://gantry-journal/teams/web/svc/staging/$id1.json" "$TMP/rec.json" ||
	fail "s3 cp"
[ "$(json_get "$TMP/rec.json" 'd["result"]')" = succeeded ] || fail "record result"
[ "$(json_get "$TMP/rec.json" 'd["stages"][0]["status"]')" = succeeded ] ||
	fail "record stage status"
ok "a deploy records its journal in S3 (prefix/service/env/id.json), not locally"

run deploy v1.0.0-rc.2
expect_rc 0 "second deploy"
# Another machine: an empty state directory, the same gantry.cfg.
GANTRY_STATE_DIR="$TMP/state2"
export GANTRY_STATE_DIR
run history
expect_rc 0 "history"
expect_out "$id1"
expect_out "v1.0.0-rc.2"
[ "$(grep -c 'succeeded' "$TMP/out")" = 2 ] || fail "history lists both deploys"
[ "$(sed -n 2p "$TMP/out" | awk '{print $3}')" = v1.0.0-rc.2 ] ||
	fail "history is newest first"
run --json history staging
expect_rc 0
[ "$(json_get "$TMP/out" 'len(d["deploys"])')" = 2 ] || fail "history --json"
run status staging
expect_rc 0
expect_out "current: v1.0.0-rc.2"
expect_out "lock free"
ok "history and status read the shared journal from a second state directory"

# ---- rollback and promotion read it too -----------------------------------

run rollback staging
expect_rc 0 "rollback"
expect_err "rolling staging back from v1.0.0-rc.2 to v1.0.0-rc.1"
run history staging
expect_out "(rollback)"
[ "$(sed -n 2p "$TMP/out" | awk '{print $3}')" = v1.0.0-rc.1 ] ||
	fail "the rollback redeployed v1.0.0-rc.1"
ok "rollback finds the previous release in the shared journal"

cat > gantry.cfg <<CFG
service = "svc";
environments = (
  { name = "staging"; tags = "v*-rc.*"; profile = "profiles/staging.cfg"; },
  { name = "production"; tags = "v*"; profile = "profiles/production.cfg"; promote_from = "staging"; }
);
$STATE_GROUP
pipeline = ( { stage = "tfix"; name = "a"; expect_ctx = "promotion.candidates"; } );
CFG
GANTRY_STATE_DIR="$TMP/state3"
run deploy v1.0.0
expect_rc 0 "promotion deploy"
expect_err "[a] promotion.candidates = v1.0.0-rc.1,v1.0.0-rc.2,v1.0.0-rc.1"
ok "promotion.candidates lists the staging candidates of the shared journal"

# ---- the lease -------------------------------------------------------------

# hold_cfg LEASE: one stage that runs until the test creates $TMP/release,
# so it holds the lock exactly as long as the test needs, however slow
# the machine (a stage sleeping N seconds races every check made meanwhile).
hold_cfg() {
	rm -f "$TMP/release" calls
	write_cfg <<CFG
$(state_group "$1")
pipeline = ( { stage = "tfix"; name = "slow"; action = "wait"; wait_file = "$TMP/release"; seconds = 300; log = "calls"; } );
CFG
}

# Two runners at the same moment: both wait for the same file, then go.
# The lease is long (the loser may take its time to be refused on a busy
# machine) and the winner's stage lasts until the loser has been refused,
# or until both ran the stage (both got the lock: the failure looked for).
race_settled() {
	grep -qF "svc/staging is locked by deploy '" "$TMP"/race.*.err 2>/dev/null ||
		[ "$(grep -c 'slow run wait' calls 2>/dev/null)" = 2 ]
}
hold_cfg 60
n=0
while [ $n -lt 10 ]; do
	rm -f go ready.a ready.b calls "$TMP/release" "$TMP"/race.*
	for who in a b; do
		( touch "ready.$who"
		  while [ ! -e go ]; do sleep 0.01; done
		  exec "$top_builddir/gantry" deploy "v2.$n.0-rc.1" \
			>"$TMP/race.$who.out" 2>"$TMP/race.$who.err" ) &
		eval "pid_$who=\$!"
	done
	BG_PIDS="$BG_PIDS $pid_a $pid_b"
	wait_until 60 "both runners to be ready" test -e ready.a -a -e ready.b
	touch go
	wait_until 60 "race $n to be decided" race_settled
	touch "$TMP/release"
	wait "$pid_a"; rc_a=$?
	wait "$pid_b"; rc_b=$?
	BG_PIDS=""
	case "$rc_a$rc_b" in
	06) loser=b ;;
	60) loser=a ;;
	*) cat "$TMP"/race.*.err >&2
	   fail "race $n: exits $rc_a and $rc_b, want one 0 and one 6" ;;
	esac
	grep -qF "svc/staging is locked by deploy '" "$TMP/race.$loser.err" ||
		fail "race $n: the loser does not name the holder"
	n=$((n + 1))
done
ok "two deploys started at the same moment: exactly one wins, ten times out of ten"

# Heartbeat: a deploy still running when its first lease has run out
# keeps the lock.  The stage lasts until the checks are done; the test
# waits for the clock to pass the first lease's end, read from the table.
hold_cfg 6
"$top_builddir/gantry" deploy v3.0.0-rc.1 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
lock_item >"$TMP/item.json"
first_until=$(json_get "$TMP/item.json" 'd["Item"]["lease_until"]["N"]')
wait_until 60 "the first lease (until $first_until) to run out" past "$first_until"
read_at=$(date +%s)
lock_item >"$TMP/item.json"
[ "$(json_get "$TMP/item.json" 'int(d["Item"]["lease_until"]["N"]) > '"$first_until"' and int(d["Item"]["lease_until"]["N"]) >= '"$read_at")" = True ] ||
	fail "the lease was not renewed past $first_until (read at $read_at): $(cat "$TMP/item.json")"
run lock staging
expect_rc 6 "lock after the first lease ran out"
expect_out "staging: lock held by deploy"
run deploy v3.0.0-rc.2
expect_rc 6 "deploy during a long one"
expect_err "svc/staging is locked by deploy '"
touch "$TMP/release"
wait "$bg" || fail "the long deploy failed: $(cat "$TMP/bg.err")"
BG_PIDS=""
! grep -q "lost the deploy lock" "$TMP/bg.err" || fail "the long deploy lost its lease"
lock_item >"$TMP/item.json"
[ "$(json_get "$TMP/item.json" '"Item" in d')" = False ] ||
	fail "the lock item is still there after the deploy"
ok "the heartbeat keeps a long deploy's lease; a second deploy is refused; release deletes the item"

# A lease taken from under a running deploy (as if it had stalled past
# its expiry): the deploy says so, goes on, and leaves the new holder's
# item alone when it ends.  Its stage lasts until it has said so.
hold_cfg 3
"$top_builddir/gantry" deploy v3.1.0-rc.1 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
until=$(( $(date +%s) + 300 ))
awsc dynamodb put-item --endpoint-url "$DYNAMODB_URL" --table-name gantry-locks \
	--item '{"id": {"S": "svc@staging"}, "token": {"S": "theirs"},
		 "lease_until": {"N": "'"$until"'"},
		 "holder": {"S": "{\"id\": \"20990101T000000Z-000000\", \"user\": \"other\", \"host\": \"runner-7\", \"pid\": 7, \"started\": 1}"}}' ||
	fail "put-item: $(cat "$TMP/aws.err")"
wait_for "$TMP/bg.err" "lost the deploy lock of svc/staging"
touch "$TMP/release"
wait "$bg" || fail "the deploy stopped: $(cat "$TMP/bg.err")"
BG_PIDS=""
grep -qF "lost the deploy lock of svc/staging to deploy '20990101T000000Z-000000' of other on runner-7; another deploy may be running" "$TMP/bg.err" ||
	fail "no lost-lock line: $(cat "$TMP/bg.err")"
lock_item >"$TMP/item.json"
[ "$(json_get "$TMP/item.json" 'd["Item"]["token"]["S"]')" = theirs ] ||
	fail "the deploy deleted or renewed the new holder's lease"
run unlock staging
expect_rc 6 "the new holder's lease is valid"
awsc dynamodb delete-item --endpoint-url "$DYNAMODB_URL" --table-name gantry-locks \
	--key '{"id": {"S": "svc@staging"}}' || fail "delete-item"
ok "a deploy that lost its lease logs it, goes on, and leaves the new holder's lease alone"

# A killed holder: its lease stays valid until it expires, then is stale.
# The lease is 15 s, renewed every 5 s: at least 7 s of it are left when
# the holder is killed, for the check that it is still held (of a 3 s
# lease, one second may be left: a busy machine spends it starting gantry).
hold_cfg 15
"$top_builddir/gantry" deploy v4.0.0-rc.1 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
run lock staging
expect_rc 6 "lock while held"
expect_out "staging: lock held by deploy"
run --json lock staging
[ "$(json_get "$TMP/out" 'd["state"]')" = held ] || fail "json held"
kill_deploy "$bg"
run unlock staging
expect_rc 6 "unlock of an unexpired lease"
expect_err "not removed"
wait_stale
run status staging
expect_out "abandoned"
run unlock staging
expect_rc 0 "unlock of a stale lease"
expect_out "staging: lock free"
run lock staging
expect_rc 0
expect_out "staging: lock free"
lock_item >"$TMP/item.json"
[ "$(json_get "$TMP/item.json" '"Item" in d')" = False ] || fail "unlock left the item"
ok "lock/unlock: a killed holder's lease is held until it expires, then stale and removable"

hold_cfg 3
"$top_builddir/gantry" deploy v4.0.0-rc.2 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
held_id=$(sed -n "s/.*starting deploy \([^:]*\):.*/\1/p" "$TMP/bg.err")
kill_deploy "$bg"
wait_stale
# Resumed from yet another machine: the record is read from S3 by id.
touch "$TMP/release"
GANTRY_STATE_DIR="$TMP/state4"
run deploy v4.0.0-rc.2 --resume "$held_id"
expect_rc 0 "resume after a stale lease"
expect_err "took over a stale lock of svc/staging left by deploy '$held_id'"
awsc s3 cp --endpoint-url "$S3_URL" \
	"s3://gantry-journal/teams/web/svc/staging/$held_id.json" "$TMP/rec.json" ||
	fail "s3 cp"
[ "$(json_get "$TMP/rec.json" 'd["resumed"]')" = 1 ] || fail "resumed count"
[ "$(json_get "$TMP/rec.json" 'd["result"]')" = succeeded ] || fail "resumed result"
run deploy v4.0.0-rc.2 --resume 20200101T000000Z-abcdef
expect_rc 2 "resume of an unknown id"
expect_err "no deploy '20200101T000000Z-abcdef' in s3://gantry-journal/teams/web"
ok "the next deploy takes an expired lease over with the stale warning; --resume reads the record by id"

# ---- errors ----------------------------------------------------------------

write_cfg <<CFG
state = { backend = "aws"; bucket = "no-such-bucket"; table = "gantry-locks"; };
pipeline = ( { stage = "tfix"; name = "a"; log = "calls"; } );
CFG
rm -f calls
run deploy v5.0.0-rc.1
expect_rc 2 "wrong bucket"
expect_err "state backend (s3://no-such-bucket/gantry): "
expect_err "NoSuchBucket"
expect_err "fix state.bucket"
[ ! -e calls ] || fail "a stage ran"
lock_item >"$TMP/item.json"
[ "$(json_get "$TMP/item.json" '"Item" in d')" = False ] || fail "the lock stayed taken"
run history
expect_rc 1 "history with a wrong bucket"
expect_err "bucket 'no-such-bucket' not found"
ok "a wrong bucket: one clear error, exit 2, nothing ran, the lock released"

write_cfg <<CFG
state = { backend = "aws"; bucket = "gantry-journal"; table = "no-such-table"; };
pipeline = ( { stage = "tfix"; name = "a"; log = "calls"; } );
CFG
run deploy v5.0.0-rc.2
expect_rc 2 "wrong table"
expect_err "ResourceNotFoundException"
expect_err "table 'no-such-table'"
[ ! -e calls ] || fail "a stage ran"
ok "a wrong table: one clear error, exit 2, nothing ran"

write_cfg <<CFG
state = { backend = "aws"; table = "gantry-locks"; lease_seconds = 1; };
pipeline = ( { stage = "tfix"; name = "a"; log = "calls"; } );
CFG
run deploy v5.0.0-rc.3
expect_rc 2 "bad state group"
expect_err "needs 'bucket'"
expect_err "'lease_seconds' must be"
[ ! -e calls ] || fail "a stage ran"
ok "a state group without bucket or with a short lease is refused before anything runs"

emulators_stop
