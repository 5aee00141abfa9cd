# Built-in stages: one directory per stage, each built as plugins/NAME.la
# so that every .so lands in plugins/.libs/ (the tests' plugin path).
include plugins/exec/local.mk
include plugins/terraform/local.mk
include plugins/smoke/local.mk
include plugins/slack-notify/local.mk
include plugins/docker-build/local.mk
include plugins/git-release/local.mk
include plugins/ecr/local.mk
include plugins/ecs-rolling/local.mk
