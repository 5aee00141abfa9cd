# lib-loading-audit.sh - what the loading audit's tests (t1500, t1510)
# share: the configuration, expect_refused and restore.  Sourced after
# lib.sh.

# probe: a marker file the fixture stage would write if it ran at all.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; log = "ran"; } );
CFG

# expect_refused WHAT LINE: a plan and a deploy both exit 5 with LINE,
# and no plugin code ran.
expect_refused() {
	run plan v1.0.0-rc.1
	expect_rc 5 "$1 (plan)"
	expect_err "gantry: error: $2"
	[ "$(grep -c 'refused' "$TMP/err")" = 1 ] || fail "$1: not one refusal line"
	rm -f ran
	run deploy v1.0.0-rc.1
	expect_rc 5 "$1 (deploy)"
	expect_err "gantry: error: $2"
	[ ! -e ran ] || fail "$1: the plugin ran"
	run plugins list
	expect_rc 0
	expect_out "tfix             refused"
}

cp "$PLUGINS/tfix.so" "$TMP/tfix.so.orig"
restore() {
	rm -f "$PLUGINS/tfix.so"
	cp "$TMP/tfix.so.orig" "$PLUGINS/tfix.so"
	chmod 644 "$PLUGINS/tfix.so"
	chmod 755 "$PLUGINS"
}
