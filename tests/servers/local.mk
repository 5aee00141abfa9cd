# The test servers: the capture server the smoke, slack and betterstack
# tests run, and the emulators of the shared state backend's test
# (dynalite and s3rver, npm packages of contrib/npm).
EXTRA_DIST += tests/servers/httpd.py tests/servers/emulators.sh \
	contrib/npm/package.json contrib/npm/package-lock.json
