#!/bin/sh
# The seed's "Run tests" step for address-api: builds the static binary
# (the image copies it) and runs its integration test, which serves a
# request on an ephemeral port and checks /healthz.
set -eu
cd "$(dirname "$0")/.."
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o address-api address-api.c
./address-api --self-test
