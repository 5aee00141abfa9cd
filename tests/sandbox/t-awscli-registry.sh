#!/bin/sh
# The simulator's ECR and the sandbox's registry checked with the real AWS
# CLI (Debian's /usr/bin/aws v2): repositories, the authorization token
# that pushes to the registry, images as the registry holds them; and the
# registry and its guard stop with the sandbox.  Needs docker-registry and
# htpasswd (the registry) besides the AWS CLI.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sandbox/lib-sandbox.sh"

[ -x /usr/bin/aws ] || skip "/usr/bin/aws is missing (apt-get install awscli)"
need curl "apt-get install curl"
need docker-registry "apt-get install docker-registry"
need htpasswd "apt-get install apache2-utils"
sandbox_start
[ -n "${SANDBOX_REGISTRY:-}" ] || fail "the sandbox started without its registry: $(cat "$T/err")"

. "$SANDBOX_SRC/lib-awscli.sh"

# --- ECR and the registry ----------------------------------------------------------
must ecr create-repository --repository-name staging/address-api --image-tag-mutability IMMUTABLE
expect "$T/out" 'd["repository"]["repositoryUri"], d["repository"]["registryId"]' \
	"('$SANDBOX_REGISTRY/staging/address-api', '111122223333')"
must ecr describe-repositories --repository-names staging/address-api
expect "$T/out" '[r["imageTagMutability"] for r in d["repositories"]]' "['IMMUTABLE']"
must_fail RepositoryNotFoundException ecr describe-repositories --repository-names staging/nothing
has "$T/err" "The repository with name 'staging/nothing' does not exist in the registry with id '111122223333'"
must ecr get-authorization-token
expect "$T/out" 'd["authorizationData"][0]["proxyEndpoint"]' "http://$SANDBOX_REGISTRY"
creds=$(jget "$T/out" '__import__("base64").b64decode(d["authorizationData"][0]["authorizationToken"]).decode()')
[ "$creds" = "AWS:$SANDBOX_REGISTRY_PASSWORD" ] || fail "the ECR token is not AWS:<registry password>"
curl -s -o /dev/null -w '%{http_code}' -u "AWS:wrong" "http://$SANDBOX_REGISTRY/v2/" >"$T/code"
has "$T/code" 401
push_image staging/address-api v1 "$creds"
ok "ecr create/describe-repositories; the get-authorization-token credentials push to the registry"

must ecr describe-images --repository-name staging/address-api
expect "$T/out" '[(i["imageDigest"], i["imageTags"], i["imageSizeInBytes"], i["imageManifestMediaType"]) for i in d["imageDetails"]]' \
	"[('$IMAGE_DIGEST', ['v1'], $LAYER_SIZE, 'application/vnd.oci.image.manifest.v1+json')]"
must ecr batch-get-image --repository-name staging/address-api --image-ids imageTag=v1 imageTag=v9
expect "$T/out" 'd["images"][0]["imageId"]["imageDigest"], d["images"][0]["imageManifest"] == open("'"$T"'/manifest.json").read()' "('$IMAGE_DIGEST', True)"
expect "$T/out" '[f["failureCode"] for f in d["failures"]]' "['ImageNotFound']"
must_fail ImageNotFoundException ecr describe-images --repository-name staging/address-api --image-ids imageTag=v9
ok "ecr describe-images and batch-get-image report the pushed image (digest, tags, size, manifest)"

# --- Lifetime -----------------------------------------------------------------------
gpid=$(cat "$SB/registry.pid")
rpid=$(registry_pid "$SB")
[ -n "$rpid" ] || fail "no docker-registry process under its guard $gpid"
"$SANDBOX_SRC/sandbox" stop "$SB" || fail "sandbox stop failed"
! alive "$gpid" && ! alive "$rpid" || fail "the registry survived sandbox stop"
curl -s -m 2 -o /dev/null "http://$SANDBOX_REGISTRY/v2/" && fail "the registry still answers after stop"
ok "sandbox stop ends the registry and its guard"

orphan_check
ok "awssim, the registry and its guard stop by themselves when the starting process is gone"
