# The SDK's objects, compiled once into a convenience library:
#   - libgantry.so (installed, for out-of-tree plugins to link) is made
#     of them and exports exactly the public API listed in
#     sdk/libgantry.sym (libtool turns the list into a version script);
#   - the gantry executable links them statically (whole) and exports the
#     same list (sdk/libgantry.dynlist), so the plugins it loads bind to
#     its one copy of libgantry's state (secrets, logging, interruption).
# The gantry_i_* internals (sdk/lib/internal.h) are exported by neither.
# docs/abi.md, "What libgantry exports", says why.
noinst_LTLIBRARIES += sdk/libgantrysdk.la
sdk_libgantrysdk_la_SOURCES = \
	sdk/lib/internal.h \
	sdk/lib/util.c sdk/lib/buf.c sdk/lib/config.c sdk/lib/context.c sdk/lib/log.c \
	sdk/lib/cmd.c sdk/lib/json.c sdk/lib/digest.c \
	sdk/lib/transport.h sdk/lib/transport.c sdk/lib/transport_pool.c \
	sdk/lib/http.c \
	sdk/lib/aws_internal.h sdk/lib/aws.c sdk/lib/aws_call.c \
	sdk/lib/aws_creds.c sdk/lib/aws_error.c sdk/lib/aws_xml.c
# The one HTTP transport (transport.c: every curl handle of libgantry)
# under http.h and the AWS client (aws.h: signing by libcurl, XML
# answers read with libxml2); SHA-256 by libcrypto (digest.h).
sdk_libgantrysdk_la_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
sdk_libgantrysdk_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) \
	$(XML_CFLAGS) $(CRYPTO_CFLAGS)
sdk_libgantrysdk_la_LIBADD = $(JSONC_LIBS) $(CURL_LIBS) $(XML_LIBS) \
	$(CRYPTO_LIBS)

lib_LTLIBRARIES += sdk/libgantry.la
sdk_libgantry_la_SOURCES =
sdk_libgantry_la_LIBADD = sdk/libgantrysdk.la
sdk_libgantry_la_LDFLAGS = -version-info $(LIBGANTRY_VERSION_INFO) \
	-export-symbols $(srcdir)/sdk/libgantry.sym
EXTRA_sdk_libgantry_la_DEPENDENCIES = $(srcdir)/sdk/libgantry.sym
EXTRA_DIST += sdk/libgantry.sym
noinst_HEADERS += sdk/intree/banned.h

# The executables that host plugins (gantry, and the unit tests, which
# load fixture plugins) link sdk/libgantrysdk.la and add GANTRY_HOST_LINK_FLAGS:
# sdk/libgantry.extern (an implicit linker script, EXTERN) pulls in every
# object defining a public symbol, whether or not the core calls it, and
# sdk/libgantry.dynlist exports exactly those symbols.
GANTRY_HOST_LINK_FLAGS = -Wl,sdk/libgantry.extern \
	-Wl,--dynamic-list=sdk/libgantry.dynlist
sdk/libgantry.dynlist: $(srcdir)/sdk/libgantry.sym
	$(AM_V_GEN){ echo '{'; sed 's/.*/	&;/' $(srcdir)/sdk/libgantry.sym; \
	  echo '};'; } >$@.tmp && mv $@.tmp $@
sdk/libgantry.extern: $(srcdir)/sdk/libgantry.sym
	$(AM_V_GEN){ echo 'EXTERN('; sed 's/.*/	&/' $(srcdir)/sdk/libgantry.sym; \
	  echo ')'; } >$@.tmp && mv $@.tmp $@
CLEANFILES += sdk/libgantry.dynlist sdk/libgantry.extern
BUILT_SOURCES = sdk/libgantry.dynlist sdk/libgantry.extern

gantryincludedir = $(includedir)/gantry
gantryinclude_HEADERS = \
	sdk/include/gantry/gantry.h sdk/include/gantry/stage.h \
	sdk/include/gantry/config.h sdk/include/gantry/context.h \
	sdk/include/gantry/cmd.h sdk/include/gantry/http.h \
	sdk/include/gantry/json.h sdk/include/gantry/buf.h \
	sdk/include/gantry/aws.h sdk/include/gantry/util.h \
	sdk/include/gantry/digest.h

pkgconfig_DATA = sdk/gantry-sdk.pc
EXTRA_DIST += sdk/gantry-sdk.pc.in

include sdk/template/local.mk
include sdk/harness/local.mk
