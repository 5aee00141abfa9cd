# the slack-notify notifier
pkglib_LTLIBRARIES += plugins/slack-notify.la
plugins_slack_notify_la_SOURCES = plugins/slack-notify/slack-notify.c
plugins_slack_notify_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
