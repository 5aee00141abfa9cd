# the ecr stage: ECR auth and a native registry push, over the public SDK
# only (gantry/http.h streams and parallelises the uploads, gantry/digest.h
# checks their SHA-256)
pkglib_LTLIBRARIES += plugins/ecr.la
plugins_ecr_la_SOURCES = plugins/ecr/ecr.c plugins/ecr/ecr.h \
	plugins/ecr/layout.c plugins/ecr/registry.c plugins/ecr/push.c \
	plugins/ecr/builder.c plugins/ecr/util.c
plugins_ecr_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
