#!/bin/sh
# t2510: the docker-build stage with builder = "docker" and a docker
# client whose engine does not answer (DOCKER_HOST names a socket nothing
# listens on, whatever engine this machine runs): the stage fails and
# says to start the engine.  Needs the docker client.
. "$top_srcdir/tests/lib.sh"

need docker "apt-get install docker.io, or the Docker CLI from docker.com"

. "$top_srcdir/tests/cli/lib-docker-build.sh"

DOCKER_HOST="unix://$TMP/no-engine.sock"
export DOCKER_HOST
unset DOCKER_CONTEXT 2>/dev/null || true
! docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	fail "an engine answers on $DOCKER_HOST"

stage_block 'builder = "docker";'
run deploy v1.0.3-rc.1
expect_rc 1 "docker without engine"
expect_err "builder 'docker' does not work here: docker's engine does not answer ("
expect_err "start the Docker engine"
ok "builder = docker says the engine does not answer"
