#!/bin/sh
# t1310: gantry report's HTML page in headless Chromium: the console is
# clean, one timeline mark (with a title) per deploy, and a screenshot
# kept as a test artifact (tests/artifacts/report.png).  Needs git (the
# journal t1300 reads, tests/cli/lib-report.sh) and Chromium; CHROMIUM
# names the browser, else chromium or chromium-browser on PATH.
. "$top_srcdir/tests/lib.sh"

need git "apt-get install git"
if [ -n "${CHROMIUM:-}" ]; then
	[ -x "$CHROMIUM" ] || skip "CHROMIUM=$CHROMIUM is not an executable (unset it to use chromium from PATH)"
else
	CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
		skip "headless Chromium is not installed (apt-get install chromium, or contrib/install-deps)"
fi

. "$top_srcdir/tests/cli/lib-report.sh"

report_deploys
html="$TMP/report.html"
run report --format html -o "$html"
expect_rc 0
[ "$(grep -o 'class="deploy-mark' "$html" | wc -l)" = 6 ] || fail "6 marks in the HTML"

# browse OUT ERR ARGS...: one headless run with a fresh profile.
browse() {
	out=$1 err=$2
	shift 2
	rm -rf "$TMP/chrome-profile"
	timeout -k 5 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --no-first-run \
		--user-data-dir="$TMP/chrome-profile" \
		--enable-logging=stderr --v=0 "$@" >"$out" 2>"$err"
}

# The console check must see an error when there is one.
printf '<!DOCTYPE html><html><body><script>nosuchfunction()</script></body></html>\n' \
	>"$TMP/bad.html"
browse "$TMP/bad.dom" "$TMP/bad.err" --dump-dom "file://$TMP/bad.html" ||
	fail "chromium could not load a page"
grep -q "Uncaught" "$TMP/bad.err" ||
	fail "the console check does not see a script error"

browse "$TMP/dom.html" "$TMP/chrome.err" --dump-dom "file://$html" ||
	{ cat "$TMP/chrome.err" >&2; fail "chromium --dump-dom"; }
! grep -E "Uncaught|ERROR:CONSOLE" "$TMP/chrome.err" >&2 ||
	fail "console errors on the report page"
python3 - "$TMP/dom.html" <<'PY' || fail "the DOM lacks one mark per deploy"
import sys
from html.parser import HTMLParser

class Marks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.marks, self.svgs, self.titles = 0, 0, 0
        self.in_mark = False
    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class", "") or ""
        if tag == "svg" and "timeline" in cls.split():
            self.svgs += 1
        if "deploy-mark" in cls.split():
            self.marks += 1
            self.in_mark = True
        elif tag == "title" and self.in_mark:
            self.titles += 1
    def handle_endtag(self, tag):
        if tag == "circle":
            self.in_mark = False

p = Marks()
p.feed(open(sys.argv[1]).read())
print("timelines", p.svgs, "marks", p.marks, "titles", p.titles)
sys.exit(0 if (p.svgs, p.marks, p.titles) == (2, 6, 6) else 1)
PY
ok "chromium renders the report: 2 timelines, one mark (with a title) per deploy, no console errors"

browse "$TMP/shot.out" "$TMP/shot.err" --screenshot="$TMP/report.png" \
	--window-size=1280,900 "file://$html" ||
	{ cat "$TMP/shot.err" >&2; fail "chromium --screenshot"; }
[ -f "$TMP/report.png" ] || fail "no screenshot written"
[ "$(head -c 8 "$TMP/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "the screenshot is not a PNG"
[ "$(wc -c <"$TMP/report.png")" -gt 20000 ] || fail "the screenshot is (nearly) blank"
mkdir -p "$top_builddir/tests/artifacts"
cp "$TMP/report.png" "$top_builddir/tests/artifacts/report.png"
ok "screenshot written to tests/artifacts/report.png"
