# the betterstack-notify notifier: a contrib plugin, built and installed
# like the built-in ones (into $(pkglibdir)); its .so lands in
# contrib/.libs/, which the CLI tests copy into their plugin directory.
pkglib_LTLIBRARIES += contrib/betterstack-notify.la
contrib_betterstack_notify_la_SOURCES = \
	contrib/betterstack-notify/betterstack-notify.c
contrib_betterstack_notify_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
EXTRA_DIST += contrib/betterstack-notify/README.md
