# libgantry's AWS client (aws.h): signing by libcurl, SHA-256 by libcrypto,
# XML answers read with libxml2.
sdk_libgantrysdk_la_SOURCES += sdk/lib/aws_internal.h sdk/lib/aws.c \
	sdk/lib/aws_call.c sdk/lib/aws_creds.c sdk/lib/aws_xml.c
sdk_libgantrysdk_la_CFLAGS += $(XML_CFLAGS) $(CRYPTO_CFLAGS)
sdk_libgantrysdk_la_LIBADD += $(XML_LIBS) $(CRYPTO_LIBS)
gantryinclude_HEADERS += sdk/include/gantry/aws.h

# The test talks to the sandbox's AWS simulator: its wrapper starts one
# (or skips the test without python3) and runs check_aws inside it.
check_PROGRAMS += tests/unit/check_aws
tests_unit_check_aws_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_aws_CFLAGS = $(UNIT_CFLAGS) $(XML_CFLAGS) $(CRYPTO_CFLAGS) \
	-pthread
tests_unit_check_aws_LDADD = $(UNIT_LDADD) $(CRYPTO_LIBS) -lpthread
tests_unit_check_aws_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/aws-test-wrapper.sh
EXTRA_DIST += tests/unit/aws-test-wrapper.sh
