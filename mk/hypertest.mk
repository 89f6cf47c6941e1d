# hypertest.mk: run a project's tests with hypertest from any Makefile.
#
#   include path/to/hypertest.mk
#
#   make hypertest-plan    list the tests into $(HT_DIR)/plan.jsonl (ht-plan)
#   make hypertest-run     run them into $(HT_DIR)/results.jsonl (ht-invoke)
#   make hypertest-clean   remove $(HT_DIR)
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

# Rule targets are fixed when make reads them, so HT_DIR is taken now and a
# different HT_DIR set after the include stops the recipes. Everything else
# is expanded when used: the other knobs may be set after the include.
_ht_dir := $(HT_DIR)
_ht_check = $(if $(filter x$(_ht_dir),x$(HT_DIR)),,$(error HT_DIR must be set before the \
	include of hypertest.mk (it was '$(_ht_dir)' there, it is '$(HT_DIR)' now)))
_ht_tool = $(if $(HT_BIN),$(patsubst %/,%,$(HT_BIN))/)
_ht_common = $(if $(HT_CONFIG),--config $(HT_CONFIG)) --set dir=$(abspath $(_ht_dir))
_ht_plan_cmd = $(_ht_tool)ht-plan $(_ht_common) \
	$(if $(wildcard $(_ht_dir)/results.jsonl),--durations $(_ht_dir)/results.jsonl) $(HT_PLAN_FLAGS)
_ht_invoke_cmd = $(_ht_tool)ht-invoke $(_ht_common) \
	$(if $(HT_CONCURRENCY),-j $(HT_CONCURRENCY)) \
	$(if $(HT_RETRIES),--retries $(HT_RETRIES)) $(HT_INVOKE_FLAGS)

.PHONY: hypertest-plan hypertest-run hypertest-clean _ht_force

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
$(_ht_dir)/results.jsonl: $(_ht_dir)/plan.jsonl | $(_ht_dir)
	@$(_ht_check)echo '$(subst ','\'',$(strip $(_ht_invoke_cmd))) $< >$@'
	@trap : INT TERM; rc=0; \
	$(_ht_invoke_cmd) $< >$@.tmp || rc=$$?; \
	if [ $$rc -eq 0 ] || [ -s $@.tmp ]; then mv -f $@.tmp $@; else rm -f $@.tmp; fi; \
	if [ $$rc -ne 0 ] && [ -f $@ ]; then echo "hypertest: results in $@" >&2; fi; \
	exit $$rc

# Deploy (later): hypertest-pull, hypertest-build, hypertest-push and
# hypertest-deploy will turn ht-pull, ht-build, ht-push and ht-update into
# file targets under $(HT_DIR) (the base image, the image digest, the
# function's digest), each rebuilt only when its inputs change, and
# hypertest-run will depend on hypertest-deploy when the provider needs an
# image. They go here.

# Removes hypertest's state directory whole: plans, results, the local
# provider's bucket. Refuses a directory that is not hypertest's own.
hypertest-clean:
	@$(_ht_check)case '$(abspath $(_ht_dir))' in \
	  ''|/|'$(CURDIR)'|'$(abspath $(CURDIR)/..)') \
	    echo "hypertest: error: refusing to remove HT_DIR '$(_ht_dir)'" >&2; exit 64 ;; \
	esac
	rm -rf -- $(_ht_dir)

_ht_force:

.DEFAULT_GOAL := $(_ht_default_goal)
