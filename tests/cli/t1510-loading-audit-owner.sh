#!/bin/sh
# t1510: the plugin loading audit, a plugin owned by another user (by
# name, by bare uid, through a symlink whose target is judged): refused
# with one exact line before any plugin code runs, exit 5.  Needs root
# (to chown) and a user 'nobody'.
. "$top_srcdir/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "the owner check needs root, to give a plugin to another user (run make check as root, e.g. in a container)"
id nobody >/dev/null 2>&1 || skip "the owner check needs a user 'nobody' (useradd nobody)"

. "$top_srcdir/tests/cli/lib-loading-audit.sh"

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
