# The out-of-tree stage template, built against the installed SDK by
# installcheck.
#
# sdk/template/ ships in the tarball as a plugin author copies it.  `make
# installcheck` (which `make distcheck` runs against its own prefix) then
# checks the installed SDK the way an author meets it:
#   - installcheck-sdk-headers: every installed public header compiles on
#     its own, first in an otherwise empty C file, under -std=c11 -Wall
#     -Wextra -Wpedantic -Werror, and none mentions a libconfig, json-c or
#     libcurl type or include;
#   - installcheck-sdk-template: the template, copied to a scratch
#     directory, goes through autogen.sh, configure (finding the SDK with
#     pkg-config), make and make install, and the installed hello.so
#     exports exactly gantry_stage_entry.
# Both work only in the build tree ($(srcdir) is read-only under
# distcheck) and install nothing outside their scratch directory.
#
# DESTDIR: gantry-sdk.pc says prefix=$(prefix), without DESTDIR, so after
# `make install DESTDIR=D` its -I and -L point where nothing is yet.  The
# template build therefore also gets CPPFLAGS=-I$(DESTDIR)$(includedir) and
# LDFLAGS=-L$(DESTDIR)$(libdir), which come before pkg-config's flags.
# Without DESTDIR (distcheck, a plain install) they repeat pkg-config's.

SDK_TEMPLATE_FILES = \
	sdk/template/README.md sdk/template/autogen.sh \
	sdk/template/configure.ac sdk/template/Makefile.am \
	sdk/template/hello.c
EXTRA_DIST += $(SDK_TEMPLATE_FILES)

sdk_template_scratch = $(abs_top_builddir)/sdk/template-check
sdk_header_scratch = $(abs_top_builddir)/sdk/header-check

# Other fragments may add their own prerequisites to these two targets.
installcheck-local: installcheck-sdk-headers installcheck-sdk-template
clean-local: clean-sdk-template
.PHONY: installcheck-sdk-headers installcheck-sdk-template clean-sdk-template

installcheck-sdk-headers:
	@inc='$(DESTDIR)$(includedir)'; dir='$(DESTDIR)$(gantryincludedir)'; \
	s='$(sdk_header_scratch)'; fail=0; n=0; \
	rm -rf "$$s" && mkdir -p "$$s" || exit 1; \
	for h in $(gantryinclude_HEADERS); do \
	  test -f "$$dir/$${h##*/}" && continue; \
	  echo "FAIL: header '$${h##*/}' is not installed in $$dir"; fail=1; \
	done; \
	for f in "$$dir"/*.h; do \
	  b=$${f##*/}; \
	  printf '#include <gantry/%s>\n' "$$b" >"$$s/t.c" || exit 1; \
	  if $(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$$inc" \
	      -c "$$s/t.c" -o "$$s/t.o"; then \
	    n=`expr $$n + 1`; \
	  else \
	    echo "FAIL: <gantry/$$b> does not compile on its own"; fail=1; \
	  fi; \
	done; \
	if grep -nE 'json_object|config_setting_t|CURL|#[[:space:]]*include[[:space:]]*[<"](libconfig|json-c/|json\.h|curl/)' \
	    "$$dir"/*.h; then \
	  echo "FAIL: an installed header exposes libconfig, json-c or libcurl (above)"; \
	  fail=1; \
	fi; \
	rm -rf "$$s"; \
	test $$fail = 0 || exit 1; \
	echo "PASS: $$n installed headers in $$dir compile on their own, no third-party types"

installcheck-sdk-template:
	@s='$(sdk_template_scratch)'; \
	rm -rf "$$s" && mkdir -p "$$s/src" || exit 1; \
	for f in $(SDK_TEMPLATE_FILES); do \
	  cp "$(srcdir)/$$f" "$$s/src/" || exit 1; \
	done; \
	chmod -R u+w "$$s/src" && cd "$$s/src" || exit 1; \
	echo "template: autogen.sh, configure, make, make install in $$s"; \
	{ $(SHELL) ./autogen.sh && \
	  ./configure --prefix="$$s/inst" --with-plugindir="$$s/plugins" \
	    CC='$(CC)' PKG_CONFIG='$(PKG_CONFIG)' \
	    PKG_CONFIG_PATH='$(DESTDIR)$(libdir)/pkgconfig' \
	    CPPFLAGS='-I$(DESTDIR)$(includedir)' \
	    LDFLAGS='-L$(DESTDIR)$(libdir)' && \
	  MAKEFLAGS= MFLAGS= $(MAKE) DESTDIR= && \
	  MAKEFLAGS= MFLAGS= $(MAKE) DESTDIR= install; } >"$$s/build.log" 2>&1 || \
	{ cat "$$s/build.log"; \
	  echo "FAIL: the template does not build against the installed SDK (log above, scratch kept in $$s)"; \
	  exit 1; }; \
	so="$$s/plugins/hello.so"; \
	syms=`$(NM) -D --defined-only "$$so" | awk 'NF { print $$NF }'`; \
	if test "x$$syms" != xgantry_stage_entry; then \
	  echo "FAIL: $$so must export exactly gantry_stage_entry; it exports:"; \
	  echo "$$syms"; exit 1; \
	fi; \
	cd '$(abs_top_builddir)' && rm -rf "$$s"; \
	echo "PASS: the template builds against the installed SDK; hello.so exports only gantry_stage_entry"

clean-sdk-template:
	-rm -rf $(sdk_template_scratch) $(sdk_header_scratch)
