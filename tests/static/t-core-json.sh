#!/bin/sh
# t-core-json.sh - the core reads and writes JSON through gantry/json.h
# (struct gantry_json) only: no file of core/ includes a json-c header or
# calls json-c.  Only libgantry (sdk/lib/json.c, and sdk/lib code that
# builds trees json.c's API cannot: aws_xml.c) knows json-c, so the JSON
# rules live in one place: gantry_json_parse refuses what is not JSON or
# not UTF-8, and one writer makes every document valid UTF-8.
#
#   tests/static/t-core-json.sh
#
# A line naming json-c in core/ fails the test with its file and line;
# use the gantry_json_* functions (or add what is missing to json.h or,
# for the core alone, gantry_i_json_* in sdk/lib/internal.h).
set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
cd "$srcdir" || exit 1

# json-c's headers (<json-c/json.h>, <json.h>, <json_object.h>, ...), its
# types and functions, its flags, its hash table.
pattern='#[[:space:]]*include[[:space:]]*[<"](json-c/|json[a-z_]*\.h)|json_object|json_tokener|json_type_|JSON_C_|lh_(table|entry)|printbuf'

fail=0
for f in core/*.c core/*.h; do
	if grep -nE "$pattern" "$f" | sed "s|^|$f:|" | grep .; then
		fail=1
	fi
done
if [ "$fail" -ne 0 ]; then
	echo "FAIL: core/ uses json-c (above); use gantry/json.h" \
	     "(struct gantry_json) instead"
	exit 1
fi
echo "ok: core/ uses JSON through gantry/json.h only"
exit 0
