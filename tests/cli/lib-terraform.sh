# lib-terraform.sh - helpers shared by the terraform stage's tests (t2000,
# t2010).  Sourced after lib.sh.

FIX="$top_srcdir/tests/fixtures/terraform"
# fixture NAME DIR: a private, writable copy (state stays in it).
fixture() {
	rm -rf "$2"
	cp -R "$FIX/$1" "$2" && chmod -R u+w "$2" || fail "cannot copy fixture $1"
}

# faketf PLAN: writes $TMP/faketf, which runs the real terraform but
# prints PLAN for `show -json` and reports changes for `plan`.
faketf() {
	cat >"$TMP/faketf" <<FAKE
#!/bin/sh
case "\$1" in
show) cat '$1'; exit 0 ;;
plan) terraform "\$@"; rc=\$?; [ \$rc = 1 ] && exit 1; exit 2 ;;
*) exec terraform "\$@" ;;
esac
FAKE
	chmod +x "$TMP/faketf"
}
