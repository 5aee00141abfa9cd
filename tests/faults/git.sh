# git.sh - git-release's repository: missing, a tag ref that is corrupt,
# git itself missing.  Sourced by matrix.sh.

GIT_CONFIG_GLOBAL=/dev/null
GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL GIT_CONFIG_NOSYSTEM

# gitrepo DIR: a repository on main with $TAG (annotated) on its commit.
gitrepo() {
	git init -q -b main "$1" && echo one >"$1/app.txt" &&
	git -C "$1" add app.txt &&
	git -C "$1" -c user.name=t -c user.email=t@e -c commit.gpgsign=false \
		commit -q -m first &&
	git -C "$1" -c user.name=t -c user.email=t@e -c tag.gpgsign=false \
		tag -a $TAG -m release
}

if command -v git >/dev/null 2>&1; then
	cell_begin git repo-missing
	cfg_stage 'stage = "git-release"; repo = "nowhere";'
	run deploy $TAG
	cell_check 3 "stage 'git-release': cannot read tags in '$CELL/nowhere'"

	cell_begin git corrupt-ref
	gitrepo repo >/dev/null 2>&1 || problem "cannot make the repository"
	# A crash while git wrote the tag: the loose ref holds half an id.
	printf '3f9a0c\n' >repo/.git/refs/tags/$TAG
	cfg_stage 'stage = "git-release"; repo = "repo";'
	run deploy $TAG
	cell_check 3 "stage 'git-release': cannot read tags in '$CELL/repo': warning: ignoring broken ref refs/tags/$TAG"

	cell_begin git binary-missing
	gitrepo repo >/dev/null 2>&1 || problem "cannot make the repository"
	cfg_stage 'stage = "git-release"; repo = "repo";'
	mkdir -p nobin
	PATH="$CELL/nobin" run_bare deploy $TAG
	cell_check 3 "stage 'git-release': cannot run git: cannot run 'git': No such file or directory; install git"
else
	for c in repo-missing corrupt-ref binary-missing; do
		cell_begin git $c
		cell_na "git is not installed"
	done
fi
