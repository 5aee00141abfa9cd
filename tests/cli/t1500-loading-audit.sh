#!/bin/sh
# t1500: the plugin loading audit.  Each unsafe way to hand gantry a
# plugin is refused with one exact line before any plugin code runs:
# a symlink leading out of the plugin path, a world-writable plugin
# directory (and one a symlink leads into), and relative
# GANTRY_PLUGIN_PATH entries (a plugin owned by another user: t1510).  A
# refused plugin the configuration needs exits 5; a path that cannot be
# used exits 2.
. "$top_srcdir/tests/lib.sh"

. "$top_srcdir/tests/cli/lib-loading-audit.sh"

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
