#!/bin/sh
# Regenerates docs/stages.md and docs/man/gantry-stages.7 from the stage
# descriptors (gantry plugins show NAME --format md|man), so the option
# documentation cannot drift from the code.
#   docs/gen-stages.sh BUILDDIR [OUTDIR]
# tests/cli/t3200-docs.sh fails when the committed files are out of date.
set -eu
build=${1:?usage: docs/gen-stages.sh BUILDDIR [OUTDIR]}
src=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$src/docs}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
for so in "$build"/plugins/.libs/*.so "$build"/contrib/.libs/*.so; do
	[ -f "$so" ] && cp "$so" "$tmp/" && chmod 644 "$tmp/$(basename "$so")"
done
stages="git-release exec docker-build ecr terraform ecs-rolling smoke approval slack-notify betterstack-notify"
g() { "$build/gantry" --plugin-path "$tmp" "$@"; }
mkdir -p "$out/man"
{
	echo "# Stages shipped with gantry"
	echo
	echo "Generated from the stage descriptors by docs/gen-stages.sh"
	echo "(\`gantry plugins show NAME --format md\`); do not edit by hand."
	echo "Core keys (\`stage\`, \`name\`, \`on_failure\`, \`timeout\`,"
	echo "\`retries\`, \`events\`) are described in docs/configuration.md."
	echo
	for s in $stages; do g plugins show "$s" --format md; done
} > "$out/stages.md"
{
	echo '.TH GANTRY-STAGES 7 "2026-11-27" "gantry 0.1.0" "Miscellaneous"'
	echo '.SH NAME'
	echo 'gantry-stages \- the stages shipped with gantry and their options'
	echo '.SH DESCRIPTION'
	echo 'Generated from the stage descriptors (gantry plugins show NAME \-\-format man).'
	echo 'Core keys of every entry are described in \fBgantry.cfg\fR(5).'
	echo '.SH STAGES'
	for s in $stages; do g plugins show "$s" --format man; done
	echo '.SH SEE ALSO'
	echo '.BR gantry (1),'
	echo '.BR gantry.cfg (5)'
} > "$out/man/gantry-stages.7"
