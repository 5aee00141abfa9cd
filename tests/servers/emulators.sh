# emulators.sh - dynalite (DynamoDB) and s3rver (S3) on loopback, for the
# tests of the shared state backend.  Sourced after tests/lib.sh.
#
#   emulators_start   starts both in one node process on free 127.0.0.1
#                     ports (bound to port 0, read back); sets EMU_PID,
#                     DYNAMODB_URL and S3_URL.  Exits 77 (skip) when node
#                     or the npm packages are missing.
#   emulators_stop    stops that process; also run on exit, before
#                     lib.sh's cleanup (tests may reset BG_PIDS freely).
#   shared_state_start  the shared state backend's world: the emulators,
#                     the table gantry-locks and the bucket gantry-journal
#                     (made with the AWS CLI, an independent client; skip
#                     without one), AWS_ENDPOINT_URL_DYNAMODB/_S3 exported
#                     for gantry, and awsc ARGS (the AWS CLI, its output in
#                     $TMP/aws.out, errors in $TMP/aws.err).
#
# The packages come from contrib/npm (npm ci --prefix contrib/npm), or
# from GANTRY_NPM_DIR (a directory holding node_modules/).  s3rver accepts
# only the access key id S3RVER (secret S3RVER); dynalite accepts any, so
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are set to those for all.

EMU_PID=""
DYNAMODB_URL=""
S3_URL=""

emulators_start() {
	npm_dir=${GANTRY_NPM_DIR:-$top_srcdir/contrib/npm}
	if ! command -v node >/dev/null 2>&1; then
		echo "SKIP: node is not installed (needed for dynalite and s3rver)"
		exit 77
	fi
	if [ ! -d "$npm_dir/node_modules/dynalite" ] ||
	   [ ! -d "$npm_dir/node_modules/s3rver" ]; then
		echo "SKIP: dynalite/s3rver not installed; run 'npm ci --prefix contrib/npm'"
		exit 77
	fi
	mkdir -p "$TMP/s3rver"
	# One process serves both and prints the two ports; it exits on
	# SIGTERM, when the test's shell is gone, or after an hour.
	NODE_PATH="$npm_dir/node_modules" node -e '
const dynalite = require("dynalite");
const S3rver = require("s3rver");
const ddb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
ddb.listen(0, "127.0.0.1", () => {
  const s3 = new S3rver({ address: "127.0.0.1", port: 0, silent: true,
                          directory: process.argv[1] });
  s3.run().then((addr) => {
    console.log("dynamodb " + ddb.address().port);
    console.log("s3 " + addr.port);
  });
});
setTimeout(() => process.exit(0), 3600 * 1000).unref();
setInterval(() => {
  try { process.kill(Number(process.argv[2]), 0); } catch (e) { process.exit(0); }
}, 1000).unref();
process.on("SIGTERM", () => process.exit(0));
' "$TMP/s3rver" "$$" >"$TMP/emulators.out" 2>"$TMP/emulators.err" </dev/null &
	EMU_PID=$!
	trap 'emulators_stop; cleanup' EXIT
	i=0
	while [ $i -lt 200 ]; do
		grep -q '^s3 ' "$TMP/emulators.out" 2>/dev/null && break
		kill -0 "$EMU_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	ddb_port=$(sed -n 's/^dynamodb //p' "$TMP/emulators.out")
	s3_port=$(sed -n 's/^s3 //p' "$TMP/emulators.out")
	if [ -z "$ddb_port" ] || [ -z "$s3_port" ]; then
		cat "$TMP/emulators.err" >&2
		echo "FAIL: the emulators did not start" >&2
		exit 1
	fi
	DYNAMODB_URL="http://127.0.0.1:$ddb_port"
	S3_URL="http://127.0.0.1:$s3_port"
	AWS_ACCESS_KEY_ID=S3RVER
	AWS_SECRET_ACCESS_KEY=S3RVER
	AWS_REGION=us-east-1
	AWS_DEFAULT_REGION=us-east-1
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_DEFAULT_REGION
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ROLE_ARN \
		AWS_WEB_IDENTITY_TOKEN_FILE 2>/dev/null || true
	# Keep the AWS CLI and the client away from the machine's own files.
	AWS_CONFIG_FILE="$TMP/aws-config"
	AWS_SHARED_CREDENTIALS_FILE="$TMP/aws-credentials"
	export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
}

emulators_stop() {
	[ -n "$EMU_PID" ] || return 0
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
	EMU_PID=""
}

awsc() { "$AWS_CLI" "$@" >"$TMP/aws.out" 2>"$TMP/aws.err"; }

shared_state_start() {
	AWS_CLI=/usr/bin/aws
	[ -x "$AWS_CLI" ] || AWS_CLI=$(command -v aws 2>/dev/null) || AWS_CLI=""
	if [ -z "$AWS_CLI" ]; then
		echo "SKIP: the AWS CLI is not installed (it creates the table and bucket)"
		exit 77
	fi
	emulators_start
	awsc dynamodb create-table --endpoint-url "$DYNAMODB_URL" \
		--table-name gantry-locks \
		--attribute-definitions AttributeName=id,AttributeType=S \
		--key-schema AttributeName=id,KeyType=HASH \
		--billing-mode PAY_PER_REQUEST || fail "create-table: $(cat "$TMP/aws.err")"
	awsc s3api create-bucket --endpoint-url "$S3_URL" --bucket gantry-journal ||
		fail "create-bucket: $(cat "$TMP/aws.err")"
	# gantry reaches both through the per-service endpoint variables.
	AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_URL
	AWS_ENDPOINT_URL_S3=$S3_URL
	export AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_S3
}
