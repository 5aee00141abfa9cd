# lib-untrusted-text.sh - checks shared by t0320 and t0321 (text from
# outside reaches JSON and the terminal safely).  Sourced after lib.sh.

ESC=$(printf '\033')
CR=$(printf '\r')

# parses FILE: FILE is one JSON document in valid UTF-8.
parses() {
	python3 -c 'import json,sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1"
}
# no_raw_controls FILE: FILE holds no ESC, CR or other C0/C1 control
# (tab and newline aside) and only valid UTF-8.
no_raw_controls() {
	python3 - "$1" <<'PY' || fail "$1 holds raw control characters"
import sys
t = open(sys.argv[1], "rb").read().decode("utf-8")
bad = [c for c in t if (ord(c) < 0x20 and c not in "\t\n") or 0x7f <= ord(c) <= 0x9f]
sys.exit(1 if bad else 0)
PY
}
