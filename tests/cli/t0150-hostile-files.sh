#!/bin/sh
# t0150: files gantry did not write itself.  The state directory (and its
# journal/, locks/, work/, batch/) is trusted only when it is a real
# directory owned by root or the user running gantry and not writable by
# group or others (the plugin rule); FIFOs and other non-regular files are
# never read (no hang); @include fan-out is bounded; stage output over the
# limit and an oversized actor are explained.  Every gantry call that could
# hang runs under `timeout 20`, so a regression fails instead of hanging.
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "quick"; log = "calls"; } );
CFG

# trun ARGS...: run with a time limit; exit 124 means it hung.  Under
# valgrind (GANTRY_VALGRIND=1) the wrapper of lib.sh runs it, unlimited.
trun() {
	if [ "${GANTRY_VALGRIND:-0}" = 1 ]; then
		run "$@"
		return
	fi
	timeout 20 "$top_builddir/gantry" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# --- the state directory: created 0700, then judged on every command
run deploy v1.0.0-rc.1
expect_rc 0
[ "$(stat -c %a "$STATE")" = 700 ] || fail "state dir created $(stat -c %a "$STATE"), not 700"
[ "$(stat -c %a "$STATE/journal")" = 700 ] || fail "journal dir not 700"
run history
expect_rc 0
expect_out "v1.0.0-rc.1"
ok "gantry creates the state directory 0700 and a correct one works"

# refused CMD...: exit 2 with the line, and no stage ran.
refused() {
	line=$1
	shift
	for cmd in "deploy v1.0.0-rc.2" "rollback staging" "history" "status" \
		   "lock staging" "unlock staging" "report"; do
		rm -f calls
		# shellcheck disable=SC2086
		trun $cmd
		[ "$rc" = 2 ] || fail "$* / $cmd: expected exit 2, got $rc"
		expect_err "$line"
		[ ! -e calls ] || fail "$* / $cmd: a stage ran"
		[ "$(grep -c . "$TMP/err")" = 1 ] || fail "$* / $cmd: not one line"
	done
}

chmod o+w "$STATE"
refused "gantry: error: state directory '$STATE' is writable by group or others (mode 0702); run chmod go-w '$STATE'" "o+w"
chmod 720 "$STATE"
refused "state directory '$STATE' is writable by group or others (mode 0720); run chmod go-w '$STATE'" "g+w"
chmod 700 "$STATE"
chmod 777 "$STATE/journal"
refused "journal directory '$STATE/journal' is writable by group or others (mode 0777); run chmod go-w '$STATE/journal'" "journal o+w"
chmod 700 "$STATE/journal"
chmod 770 "$STATE/locks"
refused "locks directory '$STATE/locks' is writable by group or others (mode 0770)" "locks g+w"
chmod 700 "$STATE/locks"
ok "a state directory, journal/ or locks/ writable by group or others is refused (exit 2, one line, nothing ran)"

me=$(id -un)
chown 12345 "$STATE"
refused "state directory '$STATE' is owned by user '?' (uid 12345), not by root or by the user running gantry ('$me'); run chown" "chown"
chown "$(id -u)" "$STATE"
chown 12345 "$STATE/journal"
refused "journal directory '$STATE/journal' is owned by user '?' (uid 12345)" "chown journal"
chown "$(id -u)" "$STATE/journal"
ok "a state directory or journal/ owned by another user is refused"

mv "$STATE" "$TMP/real-state"
ln -s "$TMP/real-state" "$STATE"
refused "state directory '$STATE' is a symlink to '$TMP/real-state', and gantry trusts only a real directory there; give the directory itself with --state-dir" "symlink"
# A trailing slash does not get it through.
GANTRY_STATE_DIR="$STATE/" trun history
expect_rc 2
expect_err "is a symlink"
rm "$STATE"
mv "$TMP/real-state" "$STATE"
mv "$STATE/journal" "$TMP/real-journal"
ln -s "$TMP/real-journal" "$STATE/journal"
refused "journal directory '$STATE/journal' is a symlink to '$TMP/real-journal'" "journal symlink"
rm "$STATE/journal"
mv "$TMP/real-journal" "$STATE/journal"
run history
expect_rc 0
expect_out "v1.0.0-rc.1"
ok "a symlinked state directory or journal/ is refused; the real one works again"

# batch writes its logs under the state directory: judged too.
cat > batch.cfg <<'B'
deploys = ( { name = "one"; config = "gantry.cfg"; tag = "v1.0.0-rc.3"; } );
B
chmod o+w "$STATE"
trun batch batch.cfg
expect_rc 2
expect_err "state directory '$STATE' is writable by group or others"
chmod o-w "$STATE"
trun batch batch.cfg
expect_rc 0
ok "batch refuses an unsafe state directory too"

# --- non-regular and foreign files inside the state directory
mkfifo "$STATE/journal/20990101T000000Z-abcdef.json"
trun history
expect_rc 0
expect_out "v1.0.0-rc.1"
expect_err "gantry: warning: skipping journal record '$STATE/journal/20990101T000000Z-abcdef.json': it is a FIFO, not a regular file; remove it"
trun deploy v1.0.0-rc.4
expect_rc 0
trun report
expect_rc 0
expect_out "svc / staging"
trun deploy v1.0.0-rc.5 --resume 20990101T000000Z-abcdef
expect_rc 2
expect_err "cannot read journal record '$STATE/journal/20990101T000000Z-abcdef.json': it is a FIFO, not a regular file; remove it"
rm "$STATE/journal/20990101T000000Z-abcdef.json"
ok "a FIFO in the journal is skipped with a warning by listings and refused by --resume, without hanging"

# A record anyone could have written is not believed.
rec=$(last_record)
chmod 666 "$rec"
trun history
expect_rc 0
expect_err "skipping journal record '$rec': it is writable by group or others (mode 0666); run chmod go-w '$rec'"
expect_no_out "v1.0.0-rc.5"
chmod 600 "$rec"
chown 12345 "$rec"
trun history
expect_err "skipping journal record '$rec': it is owned by user '?' (uid 12345)"
chown "$(id -u)" "$rec"
ln -s "$rec" "$STATE/journal/20990101T000000Z-abcdef.json"
trun history
expect_err "skipping journal record '$STATE/journal/20990101T000000Z-abcdef.json': it is a symlink, not a regular file; remove it"
rm "$STATE/journal/20990101T000000Z-abcdef.json"
ok "journal records writable by others, owned by another user or symlinked are skipped with a warning"

rm -f "$STATE/locks/svc@staging.lock"
mkfifo "$STATE/locks/svc@staging.lock"
for cmd in "lock staging" "unlock staging" "deploy v1.0.0-rc.6" "status"; do
	# shellcheck disable=SC2086
	trun $cmd
	[ "$rc" != 124 ] || fail "$cmd hung on a FIFO lock"
	expect_err "lock '$STATE/locks/svc@staging.lock' is a FIFO, not a regular file; remove it"
done
rm "$STATE/locks/svc@staging.lock"
run lock staging
expect_rc 0
ok "a FIFO as a lock file is refused, not waited on"

# --- FIFOs named by the configuration: refused at once
mkfifo "$TMP/fifo"
echo '@include "../fifo"' > profiles/staging.cfg
trun plan v1.0.0-rc.1
expect_rc 2
expect_err "gantry: error: $TMP/profiles/staging.cfg:1: cannot read included file '$TMP/profiles/../fifo': it is a FIFO, not a regular file; name a regular file"
echo '# staging' > profiles/staging.cfg
trun -c "$TMP/fifo" history
expect_rc 2
expect_err "cannot read configuration '$TMP/fifo': it is a FIFO, not a regular file"
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "quick"; log = "calls"; message = "${secret:file:fifo}"; } );
CFG
rm -f calls
# Env and file secrets are resolved before a deploy starts: an
# unreadable one stops it (exit 2), as an unset ${secret:env:} does.
trun deploy v1.0.0-rc.7
expect_rc 2
expect_err "secret '\${secret:file:fifo}' of stage 'quick': cannot read '$TMP/fifo': it is a FIFO, not a regular file; keep the secret in a regular file"
! grep -q "quick run" calls 2>/dev/null || fail "the stage ran"
ok "an @include, -c or \${secret:file:} naming a FIFO fails at once (exit 2)"

# --- @include fan-out: every file includes the next ten times, 8 deep
fanout() {
	i=1
	while [ $i -lt 8 ]; do
		: > "profiles/f$i.cfg"
		for k in 1 2 3 4 5 6 7 8 9 10; do
			echo "@include \"f$((i + 1)).cfg\"" >> "profiles/f$i.cfg"
		done
		i=$((i + 1))
	done
	echo '@include "f1.cfg"' > profiles/staging.cfg
}
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "quick"; log = "calls"; } );
CFG
fanout
head -c 9000 /dev/zero | tr '\0' '#' > profiles/f8.cfg
echo >> profiles/f8.cfg
start=$(date +%s)
trun plan v1.0.0-rc.1
expect_rc 2
[ $(( $(date +%s) - start )) -lt 15 ] || fail "the fan-out took too long"
expect_err "$TMP/profiles/f7.cfg:"
expect_err ": @include of '$TMP/profiles/f8.cfg' takes the configuration past 16 MiB with its included files; look for an @include repeated in a loop, or include fewer or smaller files"
[ "$(grep -c . "$TMP/err")" = 1 ] || fail "not one line"
echo 'x = 1;' > profiles/f8.cfg
trun plan v1.0.0-rc.1
expect_rc 2
expect_err ": @include of '$TMP/profiles/f8.cfg' would read more than 4096 files in all; look for an @include repeated in a loop, or include fewer files"
echo '# staging' > profiles/staging.cfg
rm -f profiles/f*.cfg
ok "@include fan-out stops at 16 MiB or 4096 files in all, naming the include line"

# --- a stage whose result is over 16 MiB: said so, not "no result"
write_cfg <<'CFG'
pipeline = ( { stage = "exec"; name = "loud"; capture = "loud";
               command = ["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' a"]; } );
CFG
trun -q deploy v1.0.0-rc.8
expect_rc 1
expect_err "gantry: error: stage 'loud': its result (outputs, plan or error message) is larger than 16 MiB: the stage captured or published more than 16 MiB of output; redirect the tool's output to a file or quiet it (its --quiet flag or similar), and publish only what later stages need"
expect_no_err "without reporting a result"
[ "$(json_get "$(last_record)" 'd["stages"][0]["error"]')" != None ] || fail "error not journalled"
write_cfg <<'CFG'
pipeline = ( { stage = "exec"; name = "loud";
               command = ["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' a"]; } );
CFG
trun -q deploy v1.0.0-rc.9
expect_rc 0
ok "a stage result over 16 MiB fails the stage saying so; printing that much without capturing it is fine"

# --- the actor: at most 256 bytes of printable text, else refused
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "slow"; action = "sleep"; seconds = 30; log = "calls"; } );
CFG
rm -f calls
GANTRY_ACTOR=$(head -c 100000 /dev/zero | tr '\0' a) trun deploy v1.0.0-rc.10
expect_rc 2
expect_err "gantry: error: actor from GANTRY_ACTOR is 100000 bytes long, more than 256; set GANTRY_ACTOR to the name of who deploys"
[ "$(grep -c . "$TMP/err")" = 1 ] || fail "not one line"
[ ! -e calls ] || fail "a stage ran"
GANTRY_ACTOR="" GITHUB_ACTOR="$(printf 'evil\nline')" trun deploy v1.0.0-rc.10
expect_rc 2
expect_err "actor from GITHUB_ACTOR contains a control character (byte 5)"
# The longest actor accepted reads back whole from the lock holder.
long=$(head -c 256 /dev/zero | tr '\0' b)
GANTRY_ACTOR=$long "$top_builddir/gantry" deploy v1.0.0-rc.10 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run sleep"
trun --json lock staging
expect_rc 6
[ "$(json_get "$TMP/out" 'd["user"]')" = "$long" ] || fail "lock holder user not read back"
trun deploy v1.0.0-rc.11
expect_rc 6
expect_err "of $long on"
kill -9 "$bg"
wait "$bg" 2>/dev/null
BG_PIDS=""
ok "an actor over 256 bytes or with control characters is refused (exit 2); one of 256 bytes reads back from the lock"
