#!/bin/sh
# t2110: the smoke stage over https with a private CA (certificates made
# with openssl): verified with ca_file (relative to gantry.cfg), refused
# without it, insecure allowed in staging.  Needs openssl.
. "$top_srcdir/tests/lib.sh"

need openssl "apt-get install openssl"

. "$top_srcdir/tests/cli/lib-smoke.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca.key \
	-out ca.pem -subj "/CN=gantry test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
	-subj "/CN=127.0.0.1" 2>/dev/null &&
printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -out srv.pem -days 2 -extfile srv.ext 2>/dev/null ||
	fail "openssl could not make the test certificates"
start_httpd tls --script script.json --cert srv.pem --key srv.key
TLS="https://127.0.0.1:$PORT"

smoke_cfg "ca_file = \"ca.pem\"; url = \"$TLS/healthz\";"
run deploy v0.1.0-rc.1
expect_rc 0 "tls with ca_file"

smoke_cfg "attempts = 1; url = \"$TLS/healthz\";"
run deploy v0.1.0-rc.1
expect_rc 1 "tls without ca_file"
expect_err "TLS verification failed"
expect_err "certificate"

smoke_cfg "insecure = true; attempts = 1; url = \"$TLS/healthz\";"
run deploy v0.1.0-rc.1
expect_rc 0 "insecure in staging"
expect_err "TLS verification is off"
ok "https: verified with ca_file (relative to gantry.cfg), refused without it, insecure allowed in staging"
