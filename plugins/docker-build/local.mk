# the docker-build stage
pkglib_LTLIBRARIES += plugins/docker-build.la
plugins_docker_build_la_SOURCES = plugins/docker-build/docker-build.c \
	plugins/docker-build/docker-build.h plugins/docker-build/job.c \
	plugins/docker-build/build.c \
	plugins/docker-build/dirs.c plugins/docker-build/dirs.h \
	plugins/docker-build/builders.c plugins/docker-build/builders.h
plugins_docker_build_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
