# the ecr stage: ECR auth and a native registry push (libcurl directly,
# for streaming and parallel uploads; libcrypto for SHA-256)
pkglib_LTLIBRARIES += plugins/ecr.la
plugins_ecr_la_SOURCES = plugins/ecr/ecr.c plugins/ecr/ecr.h \
	plugins/ecr/layout.c plugins/ecr/registry.c \
	plugins/ecr/builder.c plugins/ecr/util.c
plugins_ecr_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
plugins_ecr_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
plugins_ecr_la_LIBADD = $(CURL_LIBS) $(CRYPTO_LIBS)
EXTRA_DIST += bench/push.py
