#!/bin/sh
# The repository's layout: nothing at the top level beyond the parts
# docs/HACKING.md lists, and no test or script that finds processes by name
# across the whole machine.
. "$HT_SRC/tests/lib.sh"

# What may stand at the top level, each for a reason HACKING.md gives.
layout=" Makefile README.md .gitignore .git .ci tools mk include lib providers runners tests docs examples bench scripts "

# top_entries: the names at the top of the source tree: from git (tracked
# files, and untracked ones that .gitignore does not cover) in a checkout,
# else what is there less the build's output (bin/, build/).
top_entries() {
	if top=$(git -C "$HT_SRC" rev-parse --show-toplevel 2>/dev/null) &&
	   [ "$(cd "$top" && pwd -P)" = "$(cd "$HT_SRC" && pwd -P)" ]; then
		git -C "$HT_SRC" ls-files --cached --others --exclude-standard || return 1
	else
		ls -A "$HT_SRC" | grep -v -x -e bin -e build
	fi | sed 's|/.*||' | LC_ALL=C sort -u
}

test_expect_success 'the top level holds only the parts of the layout' '
	top_entries >entries &&
	test -s entries &&
	: >stray &&
	while read -r f; do
		case "$layout" in *" $f "*) ;; *) echo "$f" >>stray ;; esac
	done <entries &&
	test_cmp /dev/null stray
'

test_expect_success 'the check finds a stray file in a plain tree' '
	mkdir -p plain && cp -R "$HT_SRC/Makefile" "$HT_SRC/docs" plain/ && : >plain/e6 &&
	mkdir plain/build plain/bin &&
	(HT_SRC=$TRASH/plain && top_entries) >entries &&
	printf "%s\\n" Makefile docs e6 >expect && test_cmp expect entries
'

if have git; then
test_expect_success 'the check finds stray files in a git checkout, tracked or not' '
	git init -q repo && cp -R "$HT_SRC/Makefile" "$HT_SRC/docs" repo/ &&
	printf "/build/\\n" >repo/.gitignore && mkdir repo/build && : >repo/build/x.o &&
	: >repo/o6 && : >repo/hypertest.pc &&
	git -C repo add Makefile docs .gitignore hypertest.pc &&
	(HT_SRC=$TRASH/repo && top_entries) >entries &&
	printf "%s\\n" .gitignore Makefile docs hypertest.pc o6 >expect && test_cmp expect entries
'
else
test_skip 'the check finds stray files in a git checkout, tracked or not' 'git is not installed (Debian package git)'
fi

test_expect_success 'HACKING.md describes every part of the layout' '
	for f in $layout; do
		case $f in .git|.gitignore|Makefile|README.md) continue ;; esac
		grep -q "^$f[/ ]" "$HT_SRC/docs/HACKING.md" || { echo "HACKING.md: no line for $f" >&2; exit 1; }
	done
'

# Matching a process by its name (pgrep -f "sleep 37") finds other people's
# processes too: a test keeps the pids of what it starts instead.
test_expect_success 'no test or script looks processes up by name' '
	for f in "$HT_SRC"/tests/*.sh "$HT_SRC"/tests/run-tests "$HT_SRC"/tests/helpers/*.sh \
		 "$HT_SRC"/tests/helpers/*.py "$HT_SRC"/scripts/* "$HT_SRC"/.ci/*; do
		case $f in */t0006-layout.sh) continue ;; esac
		grep -n -H -E "(^|[^a-z_])(pgrep|pkill|killall|pidof)([^a-z_]|\$)" "$f"
	done >found
	test_cmp /dev/null found
'

test_done
