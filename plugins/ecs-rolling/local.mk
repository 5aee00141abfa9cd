# the ecs-rolling stage
pkglib_LTLIBRARIES += plugins/ecs-rolling.la
plugins_ecs_rolling_la_SOURCES = plugins/ecs-rolling/ecs-rolling.c \
	plugins/ecs-rolling/ecs.h plugins/ecs-rolling/ecsapi.c \
	plugins/ecs-rolling/watch.c plugins/ecs-rolling/explain.c \
	plugins/ecs-rolling/util.c
plugins_ecs_rolling_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
TESTS += tests/cli/t2600-ecs-rolling.sh tests/cli/t2610-ecs-requests.sh
EXTRA_DIST += plugins/ecs-rolling/README.md tests/cli/t2600-ecs-rolling.sh \
	tests/cli/t2610-ecs-requests.sh \
	bench/ecs-wait.py
