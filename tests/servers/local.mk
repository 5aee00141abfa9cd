# The shared state backend's tests against dynalite and s3rver (npm,
# contrib/npm); they skip when node or the packages are missing.
TESTS += tests/cli/t1100-shared-state.sh
EXTRA_DIST += tests/cli/t1100-shared-state.sh tests/servers/emulators.sh \
	contrib/npm/package.json contrib/npm/package-lock.json
