# hypertest.mk: run a project's tests with hypertest from any Makefile.
#
#   include path/to/hypertest.mk
#
#   make hypertest-plan    list the tests into $(HT_DIR)/plan.jsonl (ht-plan)
#   make hypertest-run     run them into $(HT_DIR)/results.jsonl (ht-invoke)
#   make hypertest-pull    the base image into the store: $(HT_DIR)/base.json (ht-pull)
#   make hypertest-build   the test image: $(HT_DIR)/image.json (ht-build)
#   make hypertest-push    the image to image.repository: $(HT_DIR)/pushed.json (ht-push)
#   make hypertest-deploy  all three, then, with the aws provider, point the function at
#                          the pushed digest: $(HT_DIR)/deployed.json (ht-update)
#   make hypertest-report  report on the last run: the summary, and $(HT_DIR)/report.html,
#                          junit.xml and trace.json (ht-report)
#   make hypertest-clean   remove $(HT_DIR), but its duration history
#
# Knobs (set them before or after the include, on the command line, or in
# the environment):
#
#   HT_BIN           directory of the ht-* tools; empty: found on PATH
#   HT_DIR           hypertest's state directory, also passed to the tools
#                    as "dir" (default .hypertest)
#   HT_CONFIG        the config file; empty: ./hypertest.json
#   HT_CONCURRENCY   tests at once (ht-invoke -j); empty: the config's
#   HT_RETRIES       retries of a failed test; empty: the config's
#   HT_PLAN_FLAGS    more options for ht-plan, e.g. --set runner.run=...
#   HT_INVOKE_FLAGS  more options for ht-invoke
#   HT_PULL_FLAGS    more options for ht-pull, e.g. --platform linux/arm64
#   HT_BUILD_FLAGS   more options for ht-build, e.g. --label team=qa
#   HT_PUSH_FLAGS    more options for ht-push, e.g. --tag ci
#   HT_UPDATE_FLAGS  more options for ht-update, e.g. --force
#   HT_REPORT_FLAGS  more options for ht-report, e.g. --artifacts URL
#   HT_DEPLOY        what the run needs before it starts: empty (nothing:
#                    the local provider on the host's root, the default),
#                    build (the image in the store), deploy (the image
#                    pushed and, on aws, live: hypertest-deploy). Set it
#                    before the include.
#
# The fragment adds only names that start with HT_, _ht_ or hypertest-
# (and the files under $(HT_DIR)), sets nothing global, keeps the
# includer's default goal, and writes every file to a temporary name that
# it renames into place. docs/howto-makefile.md explains the choices.

_ht_default_goal := $(.DEFAULT_GOAL)

HT_BIN ?=
HT_DIR ?= .hypertest
HT_CONFIG ?=
HT_CONCURRENCY ?=
HT_RETRIES ?=
HT_PLAN_FLAGS ?=
HT_INVOKE_FLAGS ?=
HT_PULL_FLAGS ?=
HT_BUILD_FLAGS ?=
HT_PUSH_FLAGS ?=
HT_UPDATE_FLAGS ?=
HT_REPORT_FLAGS ?=
HT_DEPLOY ?=

# Rule targets and prerequisites are fixed when make reads them, so HT_DIR
# and HT_DEPLOY are taken now and a different value set after the include
# stops the recipes. Everything else is expanded when used: the other knobs
# may be set after the include.
_ht_dir := $(HT_DIR)
_ht_deploy := $(strip $(HT_DEPLOY))
$(if $(filter-out build deploy,$(_ht_deploy)),$(error HT_DEPLOY must be empty, build or deploy, \
	not '$(_ht_deploy)'))
_ht_check = $(if $(filter x$(_ht_dir),x$(HT_DIR)),,$(error HT_DIR must be set before the \
	include of hypertest.mk (it was '$(_ht_dir)' there, it is '$(HT_DIR)' now)))$(if \
	$(filter x$(_ht_deploy),x$(strip $(HT_DEPLOY))),,$(error HT_DEPLOY must be set before the \
	include of hypertest.mk (it was '$(_ht_deploy)' there, it is '$(HT_DEPLOY)' now)))
_ht_tool = $(if $(HT_BIN),$(patsubst %/,%,$(HT_BIN))/)
_ht_common = $(if $(HT_CONFIG),--config $(HT_CONFIG)) --set dir=$(abspath $(_ht_dir))
_ht_plan_cmd = $(_ht_tool)ht-plan $(_ht_common) \
	$(if $(wildcard $(_ht_dir)/results.jsonl),--durations $(_ht_dir)/results.jsonl) $(HT_PLAN_FLAGS)
_ht_invoke_cmd = $(_ht_tool)ht-invoke $(_ht_common) \
	$(if $(HT_CONCURRENCY),-j $(HT_CONCURRENCY)) \
	$(if $(HT_RETRIES),--retries $(HT_RETRIES)) $(HT_INVOKE_FLAGS)

# Kbuild's filechk: put $@.tmp in place only when it differs from $@, so
# that $@'s timestamp moves only when its content does.
_ht_filechk = if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
# The file the run waits for (HT_DEPLOY).
_ht_run_needs := $(if $(filter build,$(_ht_deploy)),$(_ht_dir)/image.json)$(if \
	$(filter deploy,$(_ht_deploy)),$(_ht_dir)/deployed.json)

.PHONY: hypertest-plan hypertest-run hypertest-clean _ht_force
.PHONY: hypertest-pull hypertest-build hypertest-push hypertest-deploy hypertest-report

hypertest-plan: $(_ht_dir)/plan.jsonl $(_ht_dir)/tests.stamp

hypertest-run: $(_ht_dir)/results.jsonl

$(_ht_dir):
	$(_ht_check)mkdir -p $@

# The plan is made afresh every time (_ht_force): only ht-plan knows which
# files the config's globs or listing command name today, and every run
# needs a run id of its own so that two runs never share artifacts in the
# bucket. Earlier results, when there are some, order the plan longest
# first.
$(_ht_dir)/plan.jsonl: _ht_force | $(_ht_dir)
	$(_ht_check)$(_ht_plan_cmd) >$@.tmp || { rc=$$?; rm -f $@.tmp; exit $$rc; }
	@mv -f $@.tmp $@

# The test set: the plan without its run id, positions and expected
# durations, sorted. Rewritten only when it changes (Kbuild's filechk), so
# rules that depend on it run again only when tests are added, removed or
# run differently.
$(_ht_dir)/tests.stamp: $(_ht_dir)/plan.jsonl
	@sed -e 's/"run_id":"[^"]*",\{0,1\}//' -e 's/"index":[0-9]*,\{0,1\}//' \
	  -e 's/"expected_ms":[0-9]*,\{0,1\}//' $< | LC_ALL=C sort >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# ht-invoke exits 1 when some tests failed and still writes every result:
# the results are kept (even when the includer sets .DELETE_ON_ERROR, hence
# .PRECIOUS), then the rule fails with ht-invoke's status. An interrupt
# stops ht-invoke, which writes what finished; the trap keeps this shell
# alive to put it in place. When ht-invoke wrote nothing, the earlier
# results stay.
.PRECIOUS: $(_ht_dir)/results.jsonl
$(_ht_dir)/results.jsonl: $(_ht_dir)/plan.jsonl $(_ht_run_needs) | $(_ht_dir)
	@$(_ht_check)echo '$(subst ','\'',$(strip $(_ht_invoke_cmd))) $< >$@'
	@trap : INT TERM; rc=0; \
	$(_ht_invoke_cmd) $< >$@.tmp || rc=$$?; \
	if [ $$rc -eq 0 ] || [ -s $@.tmp ]; then mv -f $@.tmp $@; else rm -f $@.tmp; fi; \
	if [ $$rc -ne 0 ] && [ -f $@ ]; then echo "hypertest: results in $@" >&2; fi; \
	exit $$rc

# The deploy chain: ht-pull -> ht-build -> ht-push -> ht-update (with the
# aws provider), one file under $(HT_DIR) each, made again only when
# its inputs changed. None of it is a prerequisite of the plan, so
# `make -j hypertest-run` plans while it deploys (HT_DEPLOY).
#
#   config.json   the effective configuration (ht-doctor --print-config),
#                 made every time, rewritten only when it changes
#   base.ref      what the pull depends on: image.base, image.store,
#                 HT_PULL_FLAGS (filechk, every time)
#   base.json     ht-pull's ht.image/1 record of the base
#   build.ref     what the build depends on beyond the base: the project's
#                 files (name, type, mode, size, mtime, ctime), its git
#                 revision, ht-build and ht-runner themselves, image.store,
#                 image.repository, HT_BUILD_FLAGS (filechk, every time)
#   image.json    ht-build's ht.image/1 record of the test image
#   push.ref      image.repository and HT_PUSH_FLAGS (filechk, every time)
#   pushed.json   ht-push's ht.pushed/1 record
#   update.ref    the provider, aws.function and aws.region (filechk)
#   deployed.json ht-update's ht.function/1 record on the aws provider; on
#                 others, which have no function to update, a copy of
#                 pushed.json
#
# base.json is rewritten only when its record changes, image.json only
# when the image's digest does (not when only how long the build took
# changed): a build that gives the same digest as before does not push
# again. Each is made by the rule
# of a .stamp beside it, which is touched at every run of its tool; the
# record itself has an empty recipe, so make looks at its timestamp again
# after the stamp's rule and rebuilds what depends on it only when it moved.

_ht_doctor_cmd = $(_ht_tool)ht-doctor $(_ht_common) --print-config
_ht_pull_cmd = $(_ht_tool)ht-pull $(_ht_common) $(HT_PULL_FLAGS)
_ht_build_cmd = $(_ht_tool)ht-build $(_ht_common) --base $(_ht_dir)/base.json $(HT_BUILD_FLAGS)
_ht_push_cmd = $(_ht_tool)ht-push $(_ht_common) $(HT_PUSH_FLAGS)
_ht_update_cmd = $(_ht_tool)ht-update $(_ht_common) $(HT_UPDATE_FLAGS)
# The project root as the tools find it: the config file's directory.
_ht_root = $(patsubst %/,%,$(dir $(or $(HT_CONFIG),./hypertest.json)))
_ht_aroot = $(abspath $(_ht_root))
# The members of the config's "image" section, and one shell word quoted.
_ht_image_section = sed -n 's/.*"image":{\([^}]*\)}.*/\1/p' $(_ht_dir)/config.json
_ht_quote = '$(subst ','\'',$(strip $1))'

hypertest-pull: $(_ht_dir)/base.json
hypertest-build: $(_ht_dir)/image.json
hypertest-push: $(_ht_dir)/pushed.json
hypertest-deploy: $(_ht_dir)/deployed.json

$(_ht_dir)/config.json: _ht_force | $(_ht_dir)
	@$(_ht_check)$(_ht_doctor_cmd) >$@.tmp || { rc=$$?; rm -f $@.tmp; exit $$rc; }
	@$(_ht_filechk)

$(_ht_dir)/base.ref: $(_ht_dir)/config.json _ht_force
	@{ $(_ht_image_section) | sed 's/"repository":[^,]*,\{0,1\}//'; \
	  echo $(call _ht_quote,$(HT_PULL_FLAGS)); } >$@.tmp
	@$(_ht_filechk)

$(_ht_dir)/build.ref: $(_ht_dir)/config.json _ht_force
	@{ $(_ht_image_section) | sed 's/"base":[^,]*,\{0,1\}//'; \
	  echo $(call _ht_quote,$(HT_BUILD_FLAGS)) "$${SOURCE_DATE_EPOCH:-}"; \
	  git -C $(_ht_root) rev-parse HEAD 2>/dev/null || :; \
	  b=$$(command -v $(_ht_tool)ht-build) && find -L "$$b" "$${b%/*}/ht-runner" \
	    -printf '%p %s %T@ %C@\n' 2>/dev/null || :; \
	  find '$(_ht_aroot)' \( -path '$(_ht_aroot)/.git' -o -path '$(_ht_aroot)/.hypertest' \
	    -o -path '$(abspath $(_ht_dir))' \) -prune -o -printf '%P %y %m %s %T@ %C@ %l\n' | LC_ALL=C sort; \
	} >$@.tmp
	@$(_ht_filechk)

$(_ht_dir)/push.ref: $(_ht_dir)/config.json _ht_force
	@{ $(_ht_image_section) | sed -n 's/.*\("repository":[^,]*\).*/\1/p'; \
	  echo $(call _ht_quote,$(HT_PUSH_FLAGS)); } >$@.tmp
	@$(_ht_filechk)

$(_ht_dir)/base.json: $(_ht_dir)/base.stamp ;
$(_ht_dir)/base.stamp: $(_ht_dir)/base.ref | $(_ht_dir)
	@$(_ht_check)echo $(call _ht_quote,$(_ht_pull_cmd) >$(_ht_dir)/base.json)
	@$(_ht_pull_cmd) >$(_ht_dir)/base.json.tmp || { rc=$$?; rm -f $(_ht_dir)/base.json.tmp; exit $$rc; }
	@if cmp -s $(_ht_dir)/base.json.tmp $(_ht_dir)/base.json; then rm -f $(_ht_dir)/base.json.tmp; \
	else mv -f $(_ht_dir)/base.json.tmp $(_ht_dir)/base.json; fi
	@touch $@

# A build is the same image as before when the record names the same
# manifest digest in the same store (ht-build writes both before any nested
# object); which layers were reused, how long the others took, or what the
# base was called do not count. An empty key never matches.
_ht_image_key = sed -n 's/^{[^{]*"store":"\([^"]*\)"[^{]*"digest":"\([^"]*\)".*/\2 \1/p'
$(_ht_dir)/image.json: $(_ht_dir)/image.stamp ;
$(_ht_dir)/image.stamp: $(_ht_dir)/base.json $(_ht_dir)/build.ref | $(_ht_dir)
	@$(_ht_check)echo $(call _ht_quote,$(_ht_build_cmd) >$(_ht_dir)/image.json)
	@$(_ht_build_cmd) </dev/null >$(_ht_dir)/image.json.tmp || \
	{ rc=$$?; rm -f $(_ht_dir)/image.json.tmp; exit $$rc; }
	@k=$$($(_ht_image_key) $(_ht_dir)/image.json.tmp); \
	if [ -n "$$k" ] && [ -f $(_ht_dir)/image.json ] && \
	  [ "$$k" = "$$($(_ht_image_key) $(_ht_dir)/image.json)" ]; then rm -f $(_ht_dir)/image.json.tmp; \
	else mv -f $(_ht_dir)/image.json.tmp $(_ht_dir)/image.json; fi
	@touch $@

$(_ht_dir)/pushed.json: $(_ht_dir)/image.json $(_ht_dir)/push.ref | $(_ht_dir)
	@$(_ht_check)echo $(call _ht_quote,$(_ht_push_cmd) <$< >$@)
	@$(_ht_push_cmd) <$< >$@.tmp || { rc=$$?; rm -f $@.tmp; exit $$rc; }
	@mv -f $@.tmp $@

# Made again only after a push (pushed.json moves only then); ht-update
# itself leaves a function alone that already runs the digest.
$(_ht_dir)/update.ref: $(_ht_dir)/config.json _ht_force
	@grep -o -e '"provider":"[^"]*"' -e '"function":"[^"]*"' -e '"region":"[^"]*"' $< >$@.tmp || :
	@$(_ht_filechk)

$(_ht_dir)/deployed.json: $(_ht_dir)/pushed.json $(_ht_dir)/update.ref | $(_ht_dir)
	@$(_ht_check)if grep -q '"provider":"aws"' $(_ht_dir)/update.ref; then \
	  echo $(call _ht_quote,$(_ht_update_cmd) <$< >$@); \
	  $(_ht_update_cmd) <$< >$@.tmp || { rc=$$?; rm -f $@.tmp; exit $$rc; }; \
	else cp $< $@.tmp; fi
	@mv -f $@.tmp $@

# The report of the last run, from $(HT_DIR)/results.jsonl as it is: it
# runs nothing: a run that failed can still be reported (run
# hypertest-run first, see docs/howto-makefile.md). ht-report writes
# each file under a temporary name and renames it, and exits 1 when the
# run had failures, so this rule fails as hypertest-run did.
_ht_report_cmd = $(_ht_tool)ht-report $(_ht_common) --html $(_ht_dir)/report.html \
	--junit $(_ht_dir)/junit.xml --trace $(_ht_dir)/trace.json $(HT_REPORT_FLAGS)
hypertest-report: | $(_ht_dir)
	$(_ht_check)$(_ht_report_cmd) $(_ht_dir)/results.jsonl

# Removes hypertest's state directory whole: plans, results, the local
# provider's bucket. Refuses a directory that is not hypertest's own.
hypertest-clean:
	@$(_ht_check)case '$(abspath $(_ht_dir))' in \
	  ''|/|'$(CURDIR)'|'$(abspath $(CURDIR)/..)') \
	    echo "hypertest: error: refusing to remove HT_DIR '$(_ht_dir)'" >&2; exit 64 ;; \
	esac
	if [ -d '$(_ht_dir)' ]; then \
	  find '$(_ht_dir)' -mindepth 1 -maxdepth 1 ! -name bucket -exec rm -rf -- {} +; \
	  if [ -d '$(_ht_dir)/bucket' ]; then \
	    find '$(_ht_dir)/bucket' -mindepth 1 -maxdepth 1 ! -name history -exec rm -rf -- {} +; \
	    rmdir -- '$(_ht_dir)/bucket' 2>/dev/null || :; \
	  fi; \
	  rmdir -- '$(_ht_dir)' 2>/dev/null || :; \
	fi

_ht_force:

.DEFAULT_GOAL := $(_ht_default_goal)
