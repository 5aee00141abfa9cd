# the ecs-rolling stage
pkglib_LTLIBRARIES += plugins/ecs-rolling.la
plugins_ecs_rolling_la_SOURCES = plugins/ecs-rolling/ecs-rolling.c \
	plugins/ecs-rolling/ecs.h plugins/ecs-rolling/deploy.c \
	plugins/ecs-rolling/rollback.c plugins/ecs-rolling/ecsapi.c \
	plugins/ecs-rolling/watch.c plugins/ecs-rolling/explain.c \
	plugins/ecs-rolling/strategy.c plugins/ecs-rolling/sdeploy.c
plugins_ecs_rolling_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
EXTRA_DIST += plugins/ecs-rolling/README.md
