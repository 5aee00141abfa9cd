#!/bin/sh
# t1410: the secrets audit (t1400, tests/cli/lib-secrets-audit.sh) with
# docker-build and ecr in the pipeline: buildah builds an image and ecr
# pushes it to the sandbox's registry with the password ECR's
# authorization token holds; that password is in no byte gantry wrote,
# no argv and no payload, in a deploy that succeeds and in one rolled
# back.  Needs buildah, docker-registry, htpasswd and /bin/busybox.
. "$top_srcdir/tests/lib.sh"

need curl "apt-get install curl"
need buildah "apt-get install buildah"
need docker-registry "apt-get install docker-registry"
need htpasswd "apt-get install apache2-utils"
[ -x /bin/busybox ] || skip "/bin/busybox is missing (apt-get install busybox-static)"

REGISTRY=1 TERRAFORM=0
. "$top_srcdir/tests/cli/lib-secrets-audit.sh"
audit_success
audit_failure
