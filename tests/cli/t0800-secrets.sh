#!/bin/sh
# t0800: secrets never reach stderr, stdout, the journal or notifiers.
. "$top_srcdir/tests/lib.sh"

echo "file-secret-value-42" > secret.txt
export GANTRY_T_SECRET="env-secret-value-17"
write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "a"; token = "${secret:env:GANTRY_T_SECRET}"; message = "pw=${secret:file:secret.txt}";
    secret_output = "published-secret-99"; outputs = ["plain=visible"]; },
  { stage = "exec"; name = "b"; command = ["sh", "-c", "echo $S; echo $T"];
    env = { S = "${tfix.secret}"; T = "${secret:env:GANTRY_T_SECRET}"; }; },
  { stage = "tfix"; name = "c"; action = "fail"; token = "${secret:env:GANTRY_T_SECRET}"; }
);
notify = ( { plugin = "tnotify"; file = "events"; } );
CFG

run --json deploy v1.0.0-rc.1
expect_rc 1
for f in "$TMP/out" "$TMP/err" "$STATE"/journal/*.json events; do
	for s in env-secret-value-17 file-secret-value-42 published-secret-99; do
		expect_file_lacks "$f" "$s"
	done
done
expect_err "[a] token is ***"
expect_err "[b] ***"
expect_err "told to fail (***)"
expect_file_has events "reason=told to fail (***)"
[ "$(json_get "$(last_record)" 'd["stages"][0]["outputs"]["tfix.secret"]')" = "***" ] || fail "secret output redacted"
[ "$(json_get "$(last_record)" 'd["stages"][0]["outputs"]["plain"]')" = "visible" ] || fail "plain output kept"
ok "secret values are redacted in logs, errors, journal, --json and notifications"

run --json plan v1.0.0-rc.1
expect_file_lacks "$TMP/out" env-secret-value-17
expect_file_lacks "$TMP/out" file-secret-value-42
ok "plan output redacts secrets"

unset GANTRY_T_SECRET
records=$(ls "$STATE"/journal | wc -l)
run deploy v1.0.0-rc.2
expect_rc 2
expect_err "secret '\${secret:env:GANTRY_T_SECRET}' of stage 'a' is not set; export GANTRY_T_SECRET"
[ "$(ls "$STATE"/journal | wc -l)" = "$records" ] || fail "a deploy started without its secret"
ok "a missing secret stops the deploy before any stage (exit 2), with what to set"

# Resume: a stage whose output was secret runs again, so later stages get
# the real value rather than the journal's "***".
export GANTRY_T_SECRET="env-secret-value-17"
write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "a"; secret_output = "published-secret-99"; log = "calls"; },
  { stage = "tfix"; name = "b"; log = "calls"; outputs = ["b.out=x"]; },
  { stage = "exec"; name = "c"; command = ["sh", "-c", "test \"$S\" = published-secret-99 && test -f go"];
    env = { S = "${tfix.secret}"; }; }
);
CFG
rm -f calls go
run deploy v1.1.0-rc.1
expect_rc 1
id=$(json_get "$(last_record)" 'd["id"]')
touch go
rm -f calls
run deploy v1.1.0-rc.1 --resume "$id"
expect_rc 0
[ "$(cat calls)" = "a run ok" ] || fail "resume calls: $(cat calls)"
expect_err "b skipped (done before resume)"
ok "resume re-runs stages whose outputs were secret"

# A plugin linked against libgantry.so, as out-of-tree plugins are (the
# in-tree ones are not): its SDK calls still bind to the gantry
# executable's copy, so the secrets it publishes and the ones the core
# registered are redacted alike (docs/abi.md, "What libgantry exports").
linked="$top_builddir/tests/fixtures/linked/.libs/tfix.so"
readelf -d "$linked" | grep -q 'NEEDED.*libgantry\.so' ||
	fail "tests/fixtures/linked/tfix.so does not link libgantry.so"
cp "$linked" "$PLUGINS/tfix.so" && chmod 644 "$PLUGINS/tfix.so" || exit 99
LD_LIBRARY_PATH="$top_builddir/sdk/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "a"; token = "${secret:env:GANTRY_T_SECRET}";
    secret_output = "published-secret-99"; },
  { stage = "exec"; name = "b"; command = ["sh", "-c", "echo $S"];
    env = { S = "${tfix.secret}"; }; },
  { stage = "tfix"; name = "c"; action = "fail"; token = "${secret:env:GANTRY_T_SECRET}"; }
);
CFG
run --json deploy v1.2.0-rc.1
expect_rc 1
for f in "$TMP/out" "$TMP/err" "$STATE"/journal/*.json; do
	for s in env-secret-value-17 published-secret-99; do
		expect_file_lacks "$f" "$s"
	done
done
expect_err "[a] token is ***"
expect_err "[b] ***"
expect_err "told to fail (***)"
ok "a plugin linked against libgantry.so shares the core's secrets"
