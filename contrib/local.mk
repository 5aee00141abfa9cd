# Optional plugins kept outside plugins/ (built by default, installed like
# any plugin into $(pkglibdir)); each .so lands in contrib/.libs/.
include contrib/betterstack-notify/local.mk
include contrib/example/local.mk

# bash completion, the CI workflow examples and the runner image.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = contrib/completion/gantry.bash
EXTRA_DIST += contrib/github/deploy-app.yml contrib/github/batch-matrix.yml \
	contrib/docker/Dockerfile
