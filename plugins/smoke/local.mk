# the smoke stage
pkglib_LTLIBRARIES += plugins/smoke.la
plugins_smoke_la_SOURCES = plugins/smoke/smoke.c plugins/smoke/checks.c \
	plugins/smoke/attempt.c plugins/smoke/smoke.h
plugins_smoke_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
