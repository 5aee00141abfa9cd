# Optional plugins kept outside plugins/ (built by default, installed like
# any plugin into $(pkglibdir)); each .so lands in contrib/.libs/.
include contrib/betterstack-notify/local.mk
