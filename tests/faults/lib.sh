# lib.sh - the fault-injection matrix's cell helpers (sourced by matrix.sh
# after tests/lib.sh; docs/reliability.md "Fault-injection matrix").
#
# A cell is one (row, fault) pair: cell_begin gives it a fresh directory
# and state dir, the row script writes a config, injects the fault and
# runs gantry (run ...), then cell_check asserts the cell's contract and
# records pass/fail.  A failed assertion never ends the matrix: it is
# recorded with its reason, and matrix.sh exits 1 at the end.
#
# Every cell's config carries FAULT_SECRET through ${secret:env:...} (the
# "prev" entry, and the stage under test where it takes a secret), so the
# secret check is meaningful in every cell.

RESULTS="$TMP/results"
: >"$RESULTS"
FAULT_SECRET="fault-Secret-7Hq2-$$-xyzzy"
export FAULT_SECRET
SECRET_TOKEN='${secret:env:FAULT_SECRET}'
TAG=v1.0.0-rc.1

# cell_begin ROW FAULT: a fresh cell; resets the expectations to their
# defaults (see cell_check).
cell_begin() {
	CELL_ROW=$1
	CELL_COL=$2
	CELL="$TMP/c/$1-$2"
	rm -rf "$CELL"
	mkdir -p "$CELL"
	cd "$CELL" || exit 99
	STATE="$CELL/state"
	GANTRY_STATE_DIR="$STATE"
	export GANTRY_STATE_DIR
	: >"$TMP/out"
	: >"$TMP/err"
	rc=
	ROLLBACK=yes		# yes: prev's rollback must have run; no: must not; n-a
	LOCK=free		# free, stale (a killed holder), n-a
	JOURNAL=complete	# complete, abandoned (killed), n-a
	MAXERR=1		# error lines allowed on stderr
	CELL_PROBLEMS=
	CELL_T0=$(date +%s)
	printf '== %s / %s\n' "$1" "$2"
}

# cell_na REASON: the cell cannot run here (a tool is missing).
cell_na() {
	printf '%s %s n-a %s\n' "$CELL_ROW" "$CELL_COL" "$1" >>"$RESULTS"
	printf '   n-a: %s\n' "$1"
	cd "$TMP" || exit 99
}

# prev_entry: the pipeline's first entry; it completes, so a failing
# later stage under on_failure = "rollback" must roll it back.
prev_entry() {
	printf '  { stage = "tfix"; name = "prev"; log = "calls"; token = "%s"; },\n' \
		"$SECRET_TOKEN"
}

# cfg_stage ENTRY [NOTIFY]: gantry.cfg with prev, then ENTRY (a libconfig
# group without its braces; gets on_failure = "rollback"), then NOTIFY.
cfg_stage() {
	{
		echo 'pipeline = ('
		prev_entry
		printf '  { %s on_failure = "rollback"; }\n' "$1"
		echo ');'
		[ -n "${2:-}" ] && printf 'notify = ( %s );\n' "$2"
	} | write_cfg
}

problem() {
	CELL_PROBLEMS="$CELL_PROBLEMS${CELL_PROBLEMS:+; }$*"
}

# cell_check RC_CLASS FRAGMENT: RC_CLASS is one exit code or several
# separated by "|"; FRAGMENT must be in the first error line of stderr (or
# any stderr line when it starts with "~").  Then, per the expectations
# set since cell_begin: at most MAXERR error lines; the newest journal
# record parses, is finished (every stage too) and carries the exit code
# (JOURNAL=complete), or is left running and reported abandoned
# (JOURNAL=abandoned); the lock is free (LOCK=free) or reported stale
# (LOCK=stale); prev was rolled back (ROLLBACK=yes) or not (no); and the
# secret appears in no output, journal or state file.
cell_check() {
	want_rc=$1
	frag=$2
	cp "$TMP/out" "$CELL/stdout" 2>/dev/null
	cp "$TMP/err" "$CELL/stderr" 2>/dev/null

	case "|$want_rc|" in
	*"|$rc|"*) ;;
	*) problem "exit $rc, expected $want_rc" ;;
	esac

	grep -E '^gantry: error:|^gantry: fatal:' "$CELL/stderr" >"$CELL/errlines"
	nerr=$(wc -l <"$CELL/errlines")
	case $frag in
	"~"*)
		grep -qF -- "${frag#\~}" "$CELL/stderr" ||
			problem "stderr lacks '${frag#\~}'" ;;
	*)
		head -n 1 "$CELL/errlines" | grep -qF -- "$frag" ||
			problem "first error line lacks '$frag'" ;;
	esac
	[ "$nerr" -le "$MAXERR" ] || problem "$nerr error lines (at most $MAXERR)"

	if [ "$JOURNAL" != n-a ]; then
		python3 - "$STATE" "$JOURNAL" "$rc" >"$CELL/journal.check" 2>&1 <<'PY' ||
import glob, json, sys
state, want, rc = sys.argv[1], sys.argv[2], sys.argv[3]
recs = []
for p in glob.glob(state + "/journal/*.json"):
    try:
        recs.append(json.load(open(p)))
    except ValueError as e:
        sys.exit("journal file %s does not parse: %s" % (p, e))
if not recs:
    sys.exit("no journal record")
d = max(recs, key=lambda r: r["started"])
if want == "complete":
    if d.get("result") in (None, "running") or not d.get("finished"):
        sys.exit("record %s not finished (result %s)" % (d["id"], d.get("result")))
    if str(d.get("exit_code")) != rc:
        sys.exit("record exit_code %s, gantry exited %s" % (d.get("exit_code"), rc))
    for s in d["stages"]:
        if s.get("status") in (None, "running", "pending") and s.get("started"):
            sys.exit("stage %s left %s" % (s["name"], s.get("status")))
PY
			problem "journal: $(tail -n 1 "$CELL/journal.check")"
		if [ "$JOURNAL" = abandoned ]; then
			GANTRY_STATE_DIR="$STATE" gantry status staging >"$CELL/status.out" 2>&1
			grep -q abandoned "$CELL/status.out" ||
				problem "status does not call the killed deploy abandoned"
		fi
	fi

	if [ "$LOCK" != n-a ]; then
		GANTRY_STATE_DIR="$STATE" gantry lock staging >"$CELL/lock.out" 2>&1
		lrc=$?
		case $LOCK in
		free) [ $lrc = 0 ] && grep -q "lock free" "$CELL/lock.out" ||
			problem "lock not released: $(head -c 200 "$CELL/lock.out")" ;;
		stale) [ $lrc = 0 ] && grep -q "STALE" "$CELL/lock.out" ||
			problem "lock not reported stale: $(head -c 200 "$CELL/lock.out")" ;;
		esac
	fi

	case $ROLLBACK in
	yes) grep -q "^prev rollback" calls 2>/dev/null ||
		problem "prev was not rolled back" ;;
	no) ! grep -q "^prev rollback" calls 2>/dev/null ||
		problem "prev was rolled back" ;;
	esac

	if grep -rlF -- "$FAULT_SECRET" "$CELL/stdout" "$CELL/stderr" \
		"$STATE" >"$CELL/leaks" 2>/dev/null; then
		problem "secret in $(tr '\n' ' ' <"$CELL/leaks")"
	fi

	if [ -z "$CELL_PROBLEMS" ]; then
		printf '%s %s pass\n' "$CELL_ROW" "$CELL_COL" >>"$RESULTS"
		printf '   pass (exit %s, %s s)\n' "$rc" $(( $(date +%s) - CELL_T0 ))
	else
		printf '%s %s fail %s\n' "$CELL_ROW" "$CELL_COL" "$CELL_PROBLEMS" >>"$RESULTS"
		printf '   FAIL: %s\n' "$CELL_PROBLEMS"
		printf '   --- stderr of %s/%s:\n' "$CELL_ROW" "$CELL_COL"
		sed 's/^/   | /' "$CELL/stderr" | tail -n 25
	fi
	cd "$TMP" || exit 99
}

# run_bare ARGS...: run, without valgrind (for a PATH valgrind is not on).
run_bare() {
	"$top_builddir/gantry" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# bg_deploy ARGS...: gantry in the background; its pid in $BG.
bg_deploy() {
	"$top_builddir/gantry" "$@" >"$TMP/out" 2>"$TMP/err" &
	BG=$!
	BG_PIDS="$BG_PIDS $BG"
}

# bg_wait: reaps $BG; its exit code in $rc.
bg_wait() {
	wait "$BG"
	rc=$?
	BG_PIDS=$(echo "$BG_PIDS" | sed "s/ $BG\$//; s/ $BG / /")
}

# await FILE TEXT [SECONDS]: polls until FILE has TEXT; 1 when it does
# not within SECONDS (60) of wall time.
await() {
	aw_end=$(( $(date +%s) + ${3:-60} ))
	until grep -qF -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$aw_end" ] || return 1
		sleep 0.1
	done
}

# free_port: a loopback port nothing listens on.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_httpd NAME SCRIPT-JSON: a scripted tests/servers/httpd.py; its
# port in $PORT.
start_httpd() {
	printf '%s\n' "$2" >"$TMP/$1.json"
	rm -f "$TMP/$1.port"
	python3 "$top_srcdir/tests/servers/httpd.py" --port-file "$TMP/$1.port" \
		--script "$TMP/$1.json" --parent-pid $$ --max-lifetime 600 \
		2>"$TMP/$1.log" &
	BG_PIDS="$BG_PIDS $!"
	i=0
	while [ ! -s "$TMP/$1.port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(cat "$TMP/$1.port" 2>/dev/null)
}

# start_garbage NAME: a loopback server that answers every connection with
# bytes that are not HTTP, then closes; its port in $PORT.
start_garbage() {
	rm -f "$TMP/$1.port"
	python3 - "$TMP/$1.port" $$ <<'PY' 2>"$TMP/$1.log" &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
s.settimeout(0.2)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
end = time.time() + 600
while time.time() < end:
    try:
        os.kill(int(sys.argv[2]), 0)
    except ProcessLookupError:
        break
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    try:
        c.settimeout(1)
        c.recv(65536)
        c.sendall(b"\x00\x17garbage{{{ not http at all\r\n\r\n")
    except OSError:
        pass
    c.close()
PY
	BG_PIDS="$BG_PIDS $!"
	i=0
	while [ ! -s "$TMP/$1.port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PORT=$(cat "$TMP/$1.port" 2>/dev/null)
}
