#!/bin/sh
# SigV4 as libcurl's CURLOPT_AWS_SIGV4 signs it (gantry's own client uses
# libcurl): curl --aws-sigv4 requests in both protocols are accepted;
# tampered, stale, unsigned or mis-scoped ones are refused with AWS's codes.
# Also the unsigned endpoints (web identity, container credentials) and
# `sandbox stop`.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sandbox/lib-sandbox.sh"

need curl
sandbox_start --no-registry
! grep -q SANDBOX_REGISTRY "$SB/env.sh" || fail "--no-registry still wrote SANDBOX_REGISTRY"
base=$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY
FORM='Content-Type: application/x-www-form-urlencoded'
JSON='Content-Type: application/x-amz-json-1.1'
GCI='Action=GetCallerIdentity&Version=2011-06-15'

# signed SERVICE KEY:SECRET CURL-ARGS... [URL]: a curl --aws-sigv4 request to
# the simulator (URL defaults to $AWSSIM_URL/); body in $T/out, response
# headers in $T/hdr, request trace in $T/trace, HTTP status in $code.
signed() {
	svc=$1 creds=$2
	shift 2
	code=$(curl -sS -v -o "$T/out" -D "$T/hdr" -w '%{http_code}' \
		--aws-sigv4 "aws:amz:ap-south-1:$svc" --user "$creds" \
		"$@" 2>"$T/trace") || fail "curl failed"
}
plain() {
	code=$(curl -sS -o "$T/out" -D "$T/hdr" -w '%{http_code}' "$@" 2>"$T/err") ||
		fail "curl failed"
}
status() { [ "$code" = "$1" ] || fail "expected HTTP $1, got $code"; }
# sent HEADER: the value of a request header curl sent in the last signed().
sent() { tr -d '\r' <"$T/trace" | sed -n "s/^> $1: //p" | head -n 1; }

# --- accepted ---------------------------------------------------------------
signed sts "$base" -H "$FORM" --data "$GCI" "$AWSSIM_URL/"
status 200
has "$T/out" '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
has "$T/out" '<Account>111122223333</Account>'
grep -qi '^x-amzn-RequestId: ........-' "$T/hdr" || fail "no x-amzn-RequestId header"
ok "a Query POST signed by curl --aws-sigv4 is accepted (GetCallerIdentity XML)"

signed sts "$base" "$AWSSIM_URL/?$GCI"
status 200
has "$T/out" '<Arn>arn:aws:iam::111122223333:user/ci</Arn>'
ok "a Query GET with a signed query string is accepted"

sim secret '{"account":"111122223333","region":"ap-south-1","name":"api-key","value":"k-123"}'
body='{"SecretId":"api-key"}'
signed secretsmanager "$base" -H "$JSON" -H 'X-Amz-Target: secretsmanager.GetSecretValue' \
	--data "$body" "$AWSSIM_URL/"
status 200
expect "$T/out" 'd["SecretString"], d["Name"]' "('k-123', 'api-key')"
grep -qi '^content-type: application/x-amz-json-1.1' "$T/hdr" || fail "JSON answer without its content type"
ok "a JSON 1.1 request (X-Amz-Target, explicit Content-Type) signed by curl is accepted"

# --- the same signature over another body -------------------------------------
auth=$(sent Authorization)
date=$(sent X-Amz-Date)
[ -n "$auth" ] && [ -n "$date" ] || fail "no signature in curl's trace"
replay() {
	plain -H "Authorization: $auth" -H "X-Amz-Date: $date" -H "$JSON" \
		-H 'X-Amz-Target: secretsmanager.GetSecretValue' "$@" "$AWSSIM_URL/"
}
replay --data "$body"
status 200
replay --data '{"SecretId":"api-kez"}'
status 400
expect "$T/out" 'd["__type"], d["message"][:44]' "('InvalidSignatureException', 'The request signature we calculated does not')"
ok "a tampered body under a valid signature: 400 InvalidSignatureException"

signed sts "$base" -H "$FORM" -H 'X-Amz-Date: 20200101T000000Z' --data "$GCI" "$AWSSIM_URL/"
status 403
has "$T/out" '<Code>SignatureDoesNotMatch</Code><Message>Signature expired: 20200101T000000Z is now earlier than'
ok "an X-Amz-Date from 2020: 403 SignatureDoesNotMatch, signature expired"

signed sts "$base" -H "$JSON" -H 'X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' \
	--data '{}' "$AWSSIM_URL/"
status 400
expect "$T/out" 'd["__type"], d["message"]' "('InvalidSignatureException', \"Credential should be scoped to correct service: 'ecr'. \")"
ok "a request signed for the wrong service is refused"

plain -H "$FORM" --data "$GCI" "$AWSSIM_URL/"
status 403
has "$T/out" '<Code>MissingAuthenticationToken</Code>'
signed sts "AKIAUNKNOWNKEY000001:$AWS_SECRET_ACCESS_KEY" -H "$FORM" --data "$GCI" "$AWSSIM_URL/"
status 403
has "$T/out" '<Code>InvalidClientTokenId</Code>'
signed logs "AKIAUNKNOWNKEY000001:$AWS_SECRET_ACCESS_KEY" -H "$JSON" \
	-H 'X-Amz-Target: Logs_20140328.DescribeLogGroups' --data '{}' "$AWSSIM_URL/"
status 400
expect "$T/out" 'd["__type"]' UnrecognizedClientException
ok "unsigned: MissingAuthenticationToken; unknown key: InvalidClientTokenId (Query, 403) / UnrecognizedClientException (JSON, 400)"

# --- temporary credentials ------------------------------------------------------
signed sts "$base" -H "$FORM" --data "Action=AssumeRole&Version=2011-06-15&RoleArn=$SANDBOX_STAGING_ROLE&RoleSessionName=curl" "$AWSSIM_URL/"
status 200
python3 -c '
import sys, xml.etree.ElementTree as ET
ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
c = ET.parse(sys.argv[1]).find("s:AssumeRoleResult/s:Credentials", ns)
print(c.find("s:AccessKeyId", ns).text + ":" + c.find("s:SecretAccessKey", ns).text)
print(c.find("s:SessionToken", ns).text)' "$T/out" >"$T/temp" || fail "no credentials in the AssumeRole answer"
temp=$(sed -n 1p "$T/temp")
token=$(sed -n 2p "$T/temp")
signed sts "$temp" -H "$FORM" -H "X-Amz-Security-Token: $token" --data "$GCI" "$AWSSIM_URL/"
status 200
has "$T/out" '<Arn>arn:aws:sts::127214192604:assumed-role/gantry-deploy/curl</Arn>'
grep -q 'SignedHeaders=[^,]*x-amz-security-token' "$T/trace" || fail "curl did not sign the token header"
auth=$(sent Authorization)
date=$(sent X-Amz-Date)
ok "temporary credentials with x-amz-security-token signed are accepted"

signed sts "$temp" -H "$FORM" --data "$GCI" "$AWSSIM_URL/"
status 403
has "$T/out" '<Code>InvalidClientTokenId</Code>'
signed sts "$temp" -H "$FORM" -H "X-Amz-Security-Token: ${token}x" --data "$GCI" "$AWSSIM_URL/"
status 403
has "$T/out" '<Code>InvalidClientTokenId</Code>'
signed sts "$temp" -H "$FORM" --data "$GCI" "$AWSSIM_URL/"
auth=$(sent Authorization)
date=$(sent X-Amz-Date)
plain -H "Authorization: $auth" -H "X-Amz-Date: $date" -H "$FORM" \
	-H "X-Amz-Security-Token: $token" --data "$GCI" "$AWSSIM_URL/"
status 403
has "$T/out" '<Code>IncompleteSignature</Code>'
ok "temporary credentials without their token, with a wrong one, or with it unsigned: refused"

# --- unsigned endpoints -------------------------------------------------------------
plain -H "$FORM" --data-urlencode Action=AssumeRoleWithWebIdentity \
	--data-urlencode Version=2011-06-15 --data-urlencode "RoleArn=$SANDBOX_PRODUCTION_ROLE" \
	--data-urlencode RoleSessionName=oidc \
	--data-urlencode "WebIdentityToken=$SANDBOX_WEB_IDENTITY_TOKEN" "$AWSSIM_URL/"
status 200
has "$T/out" '<Arn>arn:aws:sts::429032495558:assumed-role/gantry-deploy/oidc</Arn>'
ok "AssumeRoleWithWebIdentity is accepted unsigned"

sim container-token '{"token":"ctok-123"}'
plain -H 'Authorization: ctok-124' "$AWSSIM_URL/_creds/container"
status 403
plain -H 'Authorization: ctok-123' "$AWSSIM_URL/_creds/container"
status 200
cp "$T/out" "$T/ccreds"
signed sts "$(jget "$T/ccreds" 'd["AccessKeyId"] + ":" + d["SecretAccessKey"]')" -H "$FORM" \
	-H "X-Amz-Security-Token: $(jget "$T/ccreds" 'd["Token"]')" --data "$GCI" "$AWSSIM_URL/"
status 200
has "$T/out" '<Arn>arn:aws:iam::111122223333:user/ci</Arn>'
ok "container credentials need the control token and are the base identity"

sim calls
expect "$T/sim" 'len(d["calls"]) > 10 and all(set(c) == {"service", "operation", "status", "account"} for c in d["calls"])' True
ok "/_sim/calls records every AWS call"

# --- stop -------------------------------------------------------------------------------
pid=$(cat "$SB/awssim.pid")
"$SANDBOX_SRC/sandbox" stop "$SB" || fail "sandbox stop failed"
! alive "$pid" || fail "awssim (pid $pid) still runs after stop"
! ls "$SB"/*.pid >/dev/null 2>&1 || fail "pid files left after stop"
curl -s -m 2 -o /dev/null "$AWSSIM_URL/_sim/now" && fail "the simulator still answers after stop"
"$SANDBOX_SRC/sandbox" stop "$SB" || fail "a second stop failed"
ok "sandbox stop ends the simulator and is idempotent"
