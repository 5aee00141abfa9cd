# the terraform stage
pkglib_LTLIBRARIES += plugins/terraform.la
plugins_terraform_la_SOURCES = plugins/terraform/terraform.c \
	plugins/terraform/tfcmd.c plugins/terraform/tfcmd.h \
	plugins/terraform/tfread.c plugins/terraform/tfread.h
plugins_terraform_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
TESTS += tests/cli/t2000-terraform.sh
EXTRA_DIST += plugins/terraform/README.md tests/cli/t2000-terraform.sh \
	tests/fixtures/terraform/basic/main.tf \
	tests/fixtures/terraform/broken/main.tf \
	tests/fixtures/terraform/apply-error/main.tf \
	tests/fixtures/terraform/slow/main.tf
