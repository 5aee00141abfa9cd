#!/bin/sh
# t1420: the secrets audit (t1400, tests/cli/lib-secrets-audit.sh) with
# the terraform stage in the pipeline: a secret variable and the
# sensitive output it becomes reach the stages that need them and are in
# no byte gantry wrote, no argv (terraform's included) and no payload, in
# a deploy that succeeds and in one rolled back.  Needs terraform.
. "$top_srcdir/tests/lib.sh"

need curl "apt-get install curl"
need terraform "install Terraform >= 1.4 from hashicorp.com, or put it on PATH"

REGISTRY=0 TERRAFORM=1
. "$top_srcdir/tests/cli/lib-secrets-audit.sh"
audit_success
audit_failure
