# process.sh - process-level faults, driven by the tfix fixture: a crash
# (SIGSEGV) and a hang (SIGTERM ignored) in each callback; SIGTERM and
# SIGKILL of gantry mid-stage and at a stage boundary; a full, a read-only
# state directory; a journal record truncated by an earlier crash; a lock
# left by a killed gantry.  Sourced by matrix.sh.

KILL_GRACE=1
export KILL_GRACE

# victim OPTIONS: prev, then the tfix entry "victim" with OPTIONS.
victim() {
	cfg_stage "stage = \"tfix\"; name = \"victim\"; log = \"calls\"; token = \"$SECRET_TOKEN\"; $1" "${2:-}"
}

# ------------------------------------------------ crash and hang in callbacks
for how in crash hang; do
	if [ $how = crash ]; then
		opt='crash_in'
		why="crashed in"
	else
		opt='hang_in'
		why="still running 1 s after its 1 s timeout; killed"
	fi

	cell_begin callback-$how init
	victim "$opt = \"init\"; timeout = 1;"
	run deploy $TAG
	cell_check 3 "stage 'victim': $why"

	cell_begin callback-$how plan
	victim "$opt = \"plan\"; timeout = 1;"
	run plan $TAG
	ROLLBACK=no JOURNAL=n-a
	cell_check 1 "stage 'victim'"

	cell_begin callback-$how run
	victim "$opt = \"run\"; timeout = 1;"
	run deploy $TAG
	cell_check 3 "stage 'victim': $why"

	# The rollback itself misbehaves: failed, and the rollback failed.
	# (prev's timeout also bounds its normal run, which must not reach
	# it: 3 s, not 1, on a busy machine.)
	cell_begin callback-$how rollback
	{
		echo 'pipeline = ('
		printf '  { stage = "tfix"; name = "prev"; log = "calls"; token = "%s"; %s = "rollback"; timeout = 3; },\n' \
			"$SECRET_TOKEN" "$opt"
		printf '  { stage = "tfix"; name = "victim"; action = "fail"; token = "%s"; on_failure = "rollback"; }\n' \
			"$SECRET_TOKEN"
		echo ');'
	} | write_cfg
	run deploy $TAG
	MAXERR=2
	cell_check 4 "stage 'victim': told to fail (***)"

	# A notifier's failure never fails a deploy.
	cell_begin callback-$how event
	victim "" "{ plugin = \"tfix\"; name = \"ev\"; $opt = \"event\"; timeout = 1; token = \"$SECRET_TOKEN\"; }"
	run deploy $TAG
	ROLLBACK=no MAXERR=0
	cell_check 0 "~notifier 'ev'"
done

# ----------------------------------------------------------- signals
# sig_pipeline: prev (running until prev.done exists), then victim
# running until stopped, under the rollback policy.
sig_pipeline() {
	{
		echo 'pipeline = ('
		printf '  { stage = "tfix"; name = "prev"; log = "calls"; action = "wait"; wait_file = "prev.done"; seconds = 300; token = "%s"; },\n' \
			"$SECRET_TOKEN"
		printf '  { stage = "tfix"; name = "victim"; log = "calls"; action = "wait"; wait_file = "victim.done"; seconds = 300; token = "%s"; on_failure = "rollback"; }\n' \
			"$SECRET_TOKEN"
		echo ');'
	} | write_cfg
}

# all_children_ended: every child of gantry ($BG) has exited (a zombie,
# gantry being stopped cannot reap it).
all_children_ended() {
	for c in $(pgrep -P "$BG"); do
		[ "$(sed 's/.*) //' /proc/"$c"/stat 2>/dev/null | cut -d' ' -f1)" = Z ] ||
			return 1
	done
}

# stop_at_boundary: gantry ($BG) stopped while prev runs, then prev let
# go and waited for until its process has reported and ended: the next
# signal lands between the two stages.  (prev sleeping a second raced
# the stop: on a busy machine the victim could start first.)
stop_at_boundary() {
	await calls "prev run wait" || return 1
	kill -STOP "$BG"
	touch prev.done
	sb_end=$(( $(date +%s) + 60 ))
	until all_children_ended; do
		[ "$(date +%s)" -lt "$sb_end" ] || return 1
		sleep 0.1
	done
}

for sig in TERM KILL; do
	cell_begin sig$sig mid-stage
	sig_pipeline
	touch prev.done
	bg_deploy deploy $TAG
	await calls "victim run wait" || problem "victim never started"
	kill -$sig "$BG"
	bg_wait
	if [ $sig = TERM ]; then
		cell_check 130 "~interrupted"
	else
		ROLLBACK=no LOCK=stale JOURNAL=abandoned MAXERR=0
		cell_check 137 "~starting deploy"
	fi

	cell_begin sig$sig boundary
	sig_pipeline
	bg_deploy deploy $TAG
	stop_at_boundary || problem "could not stop gantry between stages"
	kill -$sig "$BG"
	kill -CONT "$BG" 2>/dev/null
	bg_wait
	if [ $sig = TERM ]; then
		grep -q "^victim run" calls && problem "victim started after SIGTERM"
		cell_check 130 "~interrupted"
	else
		ROLLBACK=no LOCK=stale JOURNAL=abandoned MAXERR=0
		cell_check 137 "~starting deploy"
	fi
done

# A lock left by a killed gantry: the next deploy takes it over.
cell_begin state stale-lock
sig_pipeline
touch prev.done
bg_deploy deploy $TAG
await calls "victim run wait" || problem "victim never started"
kill -KILL "$BG"
bg_wait
victim ''
rm -f calls
run deploy v1.0.0-rc.2
ROLLBACK=no MAXERR=0
cell_check 0 "~took over a stale lock of svc/staging"

# A journal record cut short by a crash while it was written: history
# warns about it, the next deploy works.
cell_begin state truncated-journal
victim ''
run deploy $TAG
rec=$(ls "$STATE"/journal/*.json 2>/dev/null | head -n 1)
if [ -n "$rec" ]; then
	head -c $(( $(wc -c <"$rec") / 2 )) "$rec" >"$rec.part" && mv "$rec.part" "$rec"
	mv "$rec" "$CELL/truncated.json"
	rm -f calls
	run deploy v1.0.0-rc.2
	r2=$rc
	cp "$TMP/err" "$CELL/deploy.err"
	cp "$CELL/truncated.json" "$rec"
	run history staging
	[ "$rc" = 0 ] || problem "history exits $rc with a damaged record"
	grep -q "$(basename "$rec")" "$TMP/err" ||
		problem "history does not name the damaged record"
	grep -q "v1.0.0-rc.2" "$TMP/out" || problem "history lost the good record"
	mv "$rec" "$CELL/truncated.json"	# the journal check reads the rest
	cp "$CELL/deploy.err" "$TMP/err"
	rc=$r2
	ROLLBACK=no MAXERR=0
	cell_check 0 "~deploy succeeded"
else
	problem "no journal record"
	cell_check 0 ""
fi

# ns_run SETUP: runs, in a private mount namespace, the shell commands
# SETUP (which prepare $STATE), then the deploy, `gantry lock staging`,
# and copies what the state dir holds to $CELL/state.copy.  $rc is the
# deploy's exit code; STATE points at the copy afterwards.
ns_run() {
	mkdir -p "$STATE" "$CELL/state.copy"
	cat >"$CELL/ns.sh" <<EOF
set -u
$1
"$top_builddir/gantry" deploy $TAG >"$TMP/out" 2>"$TMP/err"
echo \$? >"$CELL/rc"
"$top_builddir/gantry" lock staging >"$CELL/lock.out" 2>&1
echo \$? >"$CELL/lock.rc"
cp -a "$STATE/." "$CELL/state.copy/" 2>/dev/null
exit 0
EOF
	unshare -m sh "$CELL/ns.sh" >"$CELL/ns.log" 2>&1 ||
		problem "unshare -m failed: $(head -c 200 "$CELL/ns.log")"
	rc=$(cat "$CELL/rc" 2>/dev/null)
	STATE="$CELL/state.copy"
	rm -f "$STATE"/journal/*.tmp* 2>/dev/null
}

# ns_lock_ok: the lock check done inside the namespace passed.
ns_lock_ok() {
	[ "$(cat "$CELL/lock.rc" 2>/dev/null)" = 0 ] && grep -q "lock free" "$CELL/lock.out" ||
		problem "lock in the namespace: $(head -c 200 "$CELL/lock.out" 2>/dev/null)"
}

if command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	cell_begin state disk-full
	victim ''
	ns_run "mount -t tmpfs -o size=64k,mode=0700 tmpfs '$STATE' || exit 1
head -c 1048576 /dev/zero >'$STATE/filler' 2>/dev/null"
	ROLLBACK=n-a LOCK=n-a JOURNAL=n-a
	rm -f "$STATE/filler"
	cell_check 2 "state"

	# Full while the deploy runs: exec fills the disk, the journal and
	# the lease need space after that.
	cell_begin state disk-fills
	{
		echo 'pipeline = ('
		prev_entry
		printf '  { stage = "exec"; name = "fill"; command = ["python3", "-c", "import sys\\ntry:\\n open(sys.argv[1], \\"wb\\").write(bytes(1 << 20))\\nexcept OSError:\\n pass", "%s/filler"]; },\n' "$STATE"
		printf '  { stage = "tfix"; name = "victim"; log = "calls"; action = "fail"; token = "%s"; on_failure = "rollback"; }\n' "$SECRET_TOKEN"
		echo ');'
	} | write_cfg
	ns_run "mount -t tmpfs -o size=96k,mode=0700 tmpfs '$STATE' || exit 1"
	rm -f "$STATE/filler"
	ns_lock_ok
	# The final record cannot be written: the last one that could (the
	# deploy running) stays, and status must call it abandoned.
	LOCK=n-a MAXERR=2 JOURNAL=abandoned
	cell_check "3|4" "~No space left on device"

	cell_begin state read-only
	victim ''
	ns_run "mount --bind '$STATE' '$STATE' && mount -o remount,bind,ro '$STATE' || exit 1"
	ROLLBACK=n-a LOCK=n-a JOURNAL=n-a
	cell_check 2 "state"
else
	for c in disk-full disk-fills read-only; do
		cell_begin state $c
		cell_na "unshare -m does not work here"
	done
fi
