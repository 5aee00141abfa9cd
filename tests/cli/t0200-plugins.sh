#!/bin/sh
# t0200: plugins list/show, refusals at the CLI, exit code 5.
. "$top_srcdir/tests/lib.sh"

FIX="$top_builddir/tests/fixtures/loader/.libs"

run plugins list
expect_rc 0
expect_out "exec             loaded"
expect_out "tfix             loaded"
ok "plugins list shows loaded plugins"

cp "$FIX/othermajor.so" "$PLUGINS/othermajor.so"
chmod 644 "$PLUGINS/othermajor.so"
run plugins list
expect_rc 0
expect_out "othermajor       refused"
expect_out "built for plugin ABI 2.0, this gantry speaks 1.2"
run --json plugins list
[ "$(json_get "$TMP/out" '[p["state"] for p in d["plugins"] if p["name"]=="othermajor"][0]')" = "refused" ] || fail "json refused"
ok "a refused plugin shows as refused with its reason"

write_cfg <<'CFG'
pipeline = ( { stage = "othermajor"; } );
CFG
run plan v1.0.0-rc.1
expect_rc 5
expect_err "plugin '$PLUGINS/othermajor.so' refused: built for plugin ABI 2.0"
ok "a needed plugin that is refused exits 5"

run plugins show tfix
expect_rc 0
expect_out "tfix test - test stage driven by its options"
expect_out "action"
expect_out "(secret)"
run --json plugins show exec
expect_rc 0
[ "$(json_get "$TMP/out" '[o["required"] for o in d["options"] if o["key"]=="command"][0]')" = "True" ] || fail "command required"
ok "plugins show documents options"

cp "$FIX/ruled.so" "$PLUGINS/ruled.so" && chmod 644 "$PLUGINS/ruled.so"
run plugins show ruled
expect_rc 0
expect_out "how many times [default: 3] [allowed: 1 to 10]"
expect_out "how to roll out [default: rolling] [allowed: one of 'rolling', 'blue-green' or 'canary']"
run --json plugins show ruled
expect_rc 0
[ "$(json_get "$TMP/out" '[(o["min"], o["max"]) for o in d["options"] if o["key"]=="count"][0]')" = "(1, 10)" ] || fail "json range"
[ "$(json_get "$TMP/out" '[o["min"] for o in d["options"] if o["key"]=="replicas"][0]')" = "1" ] || fail "json lower bound"
[ "$(json_get "$TMP/out" '[o.get("max") for o in d["options"] if o["key"]=="replicas"][0]')" = "None" ] || fail "json: no upper bound"
[ "$(json_get "$TMP/out" '",".join([o["choices"] for o in d["options"] if o["key"]=="strategy"][0])')" = "rolling,blue-green,canary" ] || fail "json choices"
[ "$(json_get "$TMP/out" '"choices" in [o for o in d["options"] if o["key"]=="note"][0]')" = "False" ] || fail "json: no rule, no members"
rm "$PLUGINS/ruled.so"
ok "plugins show prints ranges and choices"

cp "$FIX/ruledefault.so" "$PLUGINS/ruledefault.so" && chmod 644 "$PLUGINS/ruledefault.so"
run plugins show ruledefault
expect_rc 5
expect_err "plugin '$PLUGINS/ruledefault.so' refused: bad option rules: option 'count' defaults to '0', which its rule refuses (1 to 10); fix option_rules and rebuild"
rm "$PLUGINS/ruledefault.so"
ok "a plugin whose rules contradict its options is refused"

# ABI 1.2 rules: decimal options and options that apply only when another
# option has one of some values, shown by plugins show, enforced at config
# check (exit 2, nothing ran), the decimal normalised for the stage.
cp "$FIX/ruled12.so" "$PLUGINS/ruled12.so" && chmod 644 "$PLUGINS/ruled12.so"
run plugins show ruled12
expect_rc 0
expect_out "percent              decimal canary: percent of traffic [allowed: 0.1 to 100.0 with at most 1 decimal place; only when 'strategy' is 'canary']"
expect_out "steps                int     linear: steps [default: 2] [allowed: only when 'strategy' is 'linear' or 'canary']"
run --json plugins show ruled12
[ "$(json_get "$TMP/out" '[(o["min"], o["max"], o["decimal_places"], o["only_when"]["option"]) for o in d["options"] if o["key"]=="percent"][0]')" = "('0.1', '100.0', 1, 'strategy')" ] || fail "json decimal rule"
write_cfg <<'CFG'
pipeline = ( { stage = "ruled12"; strategy = "linear"; percent = 5; } );
CFG
run config check
expect_rc 2 "an option of another strategy"
expect_err "gantry.cfg:7: option 'percent' of stage 'ruled12' applies only when 'strategy' is 'canary', and 'strategy' is 'linear' (gantry.cfg:7); remove 'percent' or set strategy = \"canary\""
write_cfg <<'CFG'
pipeline = ( { stage = "ruled12"; steps = 3; } );
CFG
run deploy v1.0.0-rc.1
expect_rc 2 "a condition on a default"
expect_err "option 'steps' of stage 'ruled12' applies only when 'strategy' is 'linear' or 'canary', and 'strategy' is 'rolling' (default)"
[ ! -d "$STATE/journal" ] || [ -z "$(ls "$STATE/journal")" ] || fail "a refused configuration started a deploy"
for bad in 100.05 '"five"' 0.05; do
	write_cfg <<CFG
pipeline = ( { stage = "ruled12"; strategy = "canary"; percent = $bad; } );
CFG
	run config check
	expect_rc 2 "percent = $bad"
	expect_err "option 'percent' of stage 'ruled12' must be 0.1 to 100.0 with at most 1 decimal place, not '$(echo "$bad" | tr -d '"')'"
done
write_cfg <<'CFG'
pipeline = ( { stage = "ruled12"; strategy = "canary"; percent = "007.50"; } );
CFG
run deploy v1.0.0-rc.1
expect_rc 0
[ "$(json_get "$(last_record)" 'd["stages"][0]["outputs"]["ruled12.percent"]')" = "7.5=7.50" ] || fail "the stage did not see the normalised decimal 7.5"
rm "$PLUGINS/ruled12.so"
ok "ABI 1.2 rules: decimals and conditions shown, enforced before anything runs, decimals normalised"

run plugins show nosuch
expect_rc 2
expect_err "no plugin provides stage 'nosuch'"
ok "plugins show of an unknown stage"

# A world-writable plugin file is refused.
cp "$PLUGINS/tfix.so" "$TMP/tfix-copy.so"
chmod 666 "$PLUGINS/tfix.so"
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; } );
CFG
run plan v1.0.0-rc.1
expect_rc 5
expect_err "plugin '$PLUGINS/tfix.so' refused: file is writable by group or others (mode 0666); run chmod go-w '$PLUGINS/tfix.so'"
chmod 644 "$PLUGINS/tfix.so"
ok "world-writable plugin file refused"

# The working directory is never searched implicitly.
mkdir "$TMP/cwd" && cp "$TMP/tfix-copy.so" "$TMP/cwd/tfix.so"
cd "$TMP/cwd"
cp ../gantry.cfg . && cp -r ../profiles .
GANTRY_PLUGIN_PATH="$TMP/empty" run plan v1.0.0-rc.1
expect_rc 2
expect_err "no plugin provides stage 'tfix'"
cd "$TMP"
ok "plugins in the working directory are not loaded"

# --plugin-path beats GANTRY_PLUGIN_PATH.
run --plugin-path "$TMP/empty" plan v1.0.0-rc.1
expect_rc 2
expect_err "searched: $TMP/empty"
ok "--plugin-path overrides GANTRY_PLUGIN_PATH"
