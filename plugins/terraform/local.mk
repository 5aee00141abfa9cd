# the terraform stage
pkglib_LTLIBRARIES += plugins/terraform.la
plugins_terraform_la_SOURCES = plugins/terraform/terraform.c \
	plugins/terraform/tfcmd.c plugins/terraform/tfcmd.h \
	plugins/terraform/tfread.c plugins/terraform/tfread.h
plugins_terraform_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
EXTRA_DIST += plugins/terraform/README.md
