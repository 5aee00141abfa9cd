#!/bin/sh
# t1500: the plugin loading audit.  Each unsafe way to hand gantry a
# plugin is refused with one exact line before any plugin code runs:
# a symlink leading out of the plugin path, a world-writable plugin
# directory (and one a symlink leads into), a plugin owned by another
# user, and relative GANTRY_PLUGIN_PATH entries.  A refused plugin the
# configuration needs exits 5; a path that cannot be used exits 2.
. "$top_srcdir/tests/lib.sh"

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

run deploy v1.0.0-rc.1
expect_rc 0
[ -s ran ] || fail "the sane set-up does not run the plugin"
ok "baseline: a safe plugin path loads and runs tfix"

# --- a symlink leading out of the plugin path
mkdir -p "$TMP/elsewhere"
chmod 755 "$TMP/elsewhere"
mv "$PLUGINS/tfix.so" "$TMP/elsewhere/tfix.so"
ln -s "$TMP/elsewhere/tfix.so" "$PLUGINS/tfix.so"
expect_refused "symlink escape" \
	"plugin '$PLUGINS/tfix.so' refused: symlink leads out of the plugin path to '$TMP/elsewhere/tfix.so'; copy the plugin into '$PLUGINS' instead"
# A relative link climbing out with ../ is the same escape.
rm -f "$PLUGINS/tfix.so"
ln -s ../elsewhere/tfix.so "$PLUGINS/tfix.so"
expect_refused "relative symlink escape" \
	"plugin '$PLUGINS/tfix.so' refused: symlink leads out of the plugin path to '$TMP/elsewhere/tfix.so'; copy the plugin into '$PLUGINS' instead"
# A symlinked plugin directory escapes too (the real file is elsewhere).
rm -f "$PLUGINS/tfix.so"
ln -s "$TMP/elsewhere" "$PLUGINS/sub"
ln -s sub/tfix.so "$PLUGINS/tfix.so"
expect_refused "symlink through a linked directory" \
	"plugin '$PLUGINS/tfix.so' refused: symlink leads out of the plugin path to '$TMP/elsewhere/tfix.so'; copy the plugin into '$PLUGINS' instead"
rm -f "$PLUGINS/tfix.so" "$PLUGINS/sub"
mv "$TMP/elsewhere/tfix.so" "$PLUGINS/tfix.so"
restore
ok "symlinks leading out of the plugin path are refused (absolute, ../, through a linked directory)"

# --- world-writable directories
chmod 777 "$PLUGINS"
expect_refused "world-writable plugin directory" \
	"plugin '$PLUGINS/tfix.so' refused: directory '$PLUGINS' is writable by group or others (mode 0777); run chmod go-w '$PLUGINS'"
chmod 1777 "$PLUGINS"
expect_refused "sticky world-writable plugin directory" \
	"plugin '$PLUGINS/tfix.so' refused: directory '$PLUGINS' is writable by group or others (mode 1777); run chmod go-w '$PLUGINS'"
chmod 775 "$PLUGINS"
expect_refused "group-writable plugin directory" \
	"plugin '$PLUGINS/tfix.so' refused: directory '$PLUGINS' is writable by group or others (mode 0775); run chmod go-w '$PLUGINS'"
restore
# A symlink inside the path into a writable subdirectory: that
# subdirectory is the real file's directory and is judged.
mkdir "$PLUGINS/drop"
chmod 777 "$PLUGINS/drop"
mv "$PLUGINS/tfix.so" "$PLUGINS/drop/tfix.so"
ln -s drop/tfix.so "$PLUGINS/tfix.so"
expect_refused "symlink into a world-writable subdirectory" \
	"plugin '$PLUGINS/tfix.so' refused: directory '$PLUGINS/drop' is writable by group or others (mode 0777); run chmod go-w '$PLUGINS/drop'"
chmod 755 "$PLUGINS/drop"
run deploy v1.0.0-rc.1
expect_rc 0 "the same link into a safe subdirectory"
rm -f "$PLUGINS/tfix.so"
mv "$PLUGINS/drop/tfix.so" "$PLUGINS/tfix.so"
rmdir "$PLUGINS/drop"
restore
chmod 646 "$PLUGINS/tfix.so"
expect_refused "world-writable plugin file" \
	"plugin '$PLUGINS/tfix.so' refused: file is writable by group or others (mode 0646); run chmod go-w '$PLUGINS/tfix.so'"
restore
ok "world-, group-writable and sticky directories, a link into a writable subdirectory and a writable file are refused"

# --- a plugin owned by another user
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	me=$(id -un)
	chown nobody "$PLUGINS/tfix.so"
	expect_refused "plugin owned by another user" \
		"plugin '$PLUGINS/tfix.so' refused: file is owned by user 'nobody' (uid $(id -u nobody)), not by root or by the user running gantry ('$me'); run chown root '$PLUGINS/tfix.so' if you trust it, or remove it"
	# The owner of a symlink's target is the one judged, not the link's.
	chown root "$PLUGINS/tfix.so"
	mkdir "$PLUGINS/real"
	chmod 755 "$PLUGINS/real"
	mv "$PLUGINS/tfix.so" "$PLUGINS/real/tfix.so"
	chown nobody "$PLUGINS/real/tfix.so"
	ln -s real/tfix.so "$PLUGINS/tfix.so"
	expect_refused "link to a plugin owned by another user" \
		"plugin '$PLUGINS/tfix.so' refused: file is owned by user 'nobody'"
	rm -f "$PLUGINS/tfix.so"
	rm -rf "$PLUGINS/real"
	restore
	chown 4242 "$PLUGINS/tfix.so"
	run plan v1.0.0-rc.1
	expect_rc 5 "owner without a name"
	expect_err "gantry: error: plugin '$PLUGINS/tfix.so' refused: file is owned by user '?' (uid 4242)"
	chown root "$PLUGINS/tfix.so"
	run deploy v1.0.0-rc.1
	expect_rc 0 "owned by root again"
	restore
	ok "a plugin owned by another user (by name, by bare uid, through a link) is refused"
else
	echo "# skipped the owner check: it needs root and a user 'nobody'"
fi

# --- relative GANTRY_PLUGIN_PATH entries
mkdir -p "$TMP/rel"
cp -r gantry.cfg profiles "$TMP/rel/"
ln -s "$PLUGINS" "$TMP/rel/plugins"
cd "$TMP/rel"
for entry in plugins ./plugins ../rel/plugins .; do
	GANTRY_PLUGIN_PATH="$entry" run plan v1.0.0-rc.1
	expect_rc 2 "relative GANTRY_PLUGIN_PATH '$entry'"
	expect_err "gantry: error: GANTRY_PLUGIN_PATH entry '$entry' is relative and would depend on the current directory; give an absolute path (or use --plugin-path, which is relative to the current directory)"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "not one line for '$entry'"
done
GANTRY_PLUGIN_PATH="$PLUGINS:plugins" run deploy v1.0.0-rc.1
expect_rc 2 "a relative entry after an absolute one"
expect_err "GANTRY_PLUGIN_PATH entry 'plugins' is relative"
GANTRY_PLUGIN_PATH="$PLUGINS::" run deploy v1.0.0-rc.1
expect_rc 0 "empty entries are ignored"
GANTRY_PLUGIN_PATH="plugins" run --plugin-path "$PLUGINS" plan v1.0.0-rc.1
expect_rc 0 "--plugin-path wins over a relative GANTRY_PLUGIN_PATH"
GANTRY_PLUGIN_PATH="" run --plugin-path plugins plan v1.0.0-rc.1
expect_rc 0 "--plugin-path may be relative to the current directory"
cd "$TMP"
ok "relative GANTRY_PLUGIN_PATH entries are refused (exit 2, one line); --plugin-path may stay relative"
