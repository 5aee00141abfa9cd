# the git-release stage
pkglib_LTLIBRARIES += plugins/git-release.la
plugins_git_release_la_SOURCES = plugins/git-release/git-release.c \
	plugins/git-release/gitcmd.c plugins/git-release/worktree.c \
	plugins/git-release/event.c plugins/git-release/gitrel.h
plugins_git_release_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
