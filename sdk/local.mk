# libgantry: the SDK library linked by the core and by every plugin.
lib_LTLIBRARIES += sdk/libgantry.la
sdk_libgantry_la_SOURCES = \
	sdk/lib/internal.h sdk/lib/banned.h \
	sdk/lib/util.c sdk/lib/buf.c sdk/lib/config.c sdk/lib/context.c sdk/lib/log.c
sdk_libgantry_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
sdk_libgantry_la_LIBADD = $(JSONC_LIBS) $(CURL_LIBS)
sdk_libgantry_la_LDFLAGS = -version-info $(LIBGANTRY_VERSION_INFO) \
	-export-symbols-regex '^gantry_'

gantryincludedir = $(includedir)/gantry
gantryinclude_HEADERS = \
	sdk/include/gantry/gantry.h sdk/include/gantry/stage.h \
	sdk/include/gantry/config.h sdk/include/gantry/context.h \
	sdk/include/gantry/cmd.h sdk/include/gantry/http.h \
	sdk/include/gantry/json.h sdk/include/gantry/buf.h

pkgconfig_DATA = sdk/gantry-sdk.pc
EXTRA_DIST += sdk/gantry-sdk.pc.in

include sdk/helpers.mk
include sdk/template/local.mk
include sdk/aws.mk
include sdk/harness/local.mk
