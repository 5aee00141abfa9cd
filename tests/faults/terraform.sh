# terraform.sh - the terraform CLI: missing, a plan error, a state lock
# held by another apply, an apply outliving the stage's timeout.  Uses the
# real terraform offline (tests/fixtures/terraform).  Sourced by matrix.sh.

TFIX="$top_srcdir/tests/fixtures/terraform"

# tf FIXTURE OPTIONS: prev, then terraform on a private copy of FIXTURE.
tf() {
	cp -R "$TFIX/$1" infra && chmod -R u+w infra
	cfg_stage "stage = \"terraform\"; dir = \"infra\"; workspace = \"default\"; $2"
}

cell_begin terraform binary-missing
tf basic 'binary = "no-such-terraform";'
run deploy $TAG
cell_check 3 "stage 'terraform': cannot run 'no-such-terraform': No such file or directory; install Terraform or set binary"

if command -v terraform >/dev/null 2>&1; then
	cell_begin terraform plan-error
	tf broken ''
	run deploy $TAG
	cell_check 3 "stage 'terraform': terraform plan failed in '$CELL/infra' (exit 1): Error: Unsupported argument"

	# (the holder applies until the cell creates tf.release, not for 8 s
	# that gantry's init and plan raced)
	cell_begin terraform state-lock
	tf slow ''
	( cd infra && terraform init -input=false -no-color >/dev/null 2>&1 &&
	  exec terraform apply -auto-approve -input=false -no-color \
		-var "release_file=$CELL/tf.release" >"$CELL/holder.log" 2>&1 ) &
	holder=$!
	BG_PIDS="$BG_PIDS $holder"
	await "$CELL/holder.log" "Provisioning with 'local-exec'" 30 ||
		problem "the lock holder did not start"
	run deploy $TAG
	cell_check 3 "stage 'terraform': terraform state is locked by "
	grep -qF "set lock_timeout" "$CELL/stderr" || problem "no advice on lock_timeout"
	touch "$CELL/tf.release"
	wait "$holder" 2>/dev/null

	cell_begin terraform timeout
	tf slow 'timeout = 2; vars = { seconds = "30"; };'
	run deploy $TAG
	cell_check 3 "stage 'terraform': terraform apply did not finish: the stage's timeout of 2s ran out"
else
	for c in plan-error state-lock timeout; do
		cell_begin terraform $c
		cell_na "terraform is not on PATH"
	done
fi
