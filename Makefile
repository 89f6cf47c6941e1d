# hypertest: one non-recursive build for the tools, libht, the tests.
#
#   make                 build libht (build/std/libht.a) and every tool into bin/
#   make check           install missing packages (as root), build, run all tests
#   make check SANITIZE=1  the same under ASan + UBSan (CI does this)
#   make tests           build everything the tests need (unit tests, helpers), run nothing
#   make demo            build, then run examples/shop on the local provider
#   make demo-pytest     build, then run examples/pytest (a pytest suite) likewise
#   make demo-playwright build, then run examples/playwright (a Playwright suite) likewise
#   make bench           run the benchmarks under bench/ and print their figures
#   make fuzz FUZZ_TIME=600  build the libFuzzer harnesses (tests/fuzz/) with clang
#                        into build/fuzz/ and run each for FUZZ_TIME seconds
#   make install PREFIX=/usr/local DESTDIR=
#   make deb             build/hypertest_VERSION_ARCH.deb, checked by lintian
#   make uninstall | clean
#
# Knobs: CC, CPPFLAGS, CFLAGS, LDFLAGS, WERROR=1 (on when CI is set), SANITIZE=1 (on
# when CI is set), V=1 for full command lines, TESTS='t0001 test-util' to
# run only some tests.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
DATADIR   ?= $(PREFIX)/share
CC        ?= cc
PKG_CONFIG ?= pkg-config

ifneq ($(CI),)
WERROR   ?= 1
SANITIZE ?= 1
endif

# Sanitized objects and binaries live apart so that the two builds never mix.
ifeq ($(SANITIZE),1)
O         := build/san
else
O         := build/std
endif
BIN       := $(if $(filter 1,$(SANITIZE)),$(O)/bin,bin)

# Dependencies: pkg-config name -> Debian package that provides it.
_deps := libcurl:libcurl4-openssl-dev libcrypto:libssl-dev libarchive:libarchive-dev \
         zlib:zlib1g-dev jansson:libjansson-dev libmicrohttpd:libmicrohttpd-dev
_goals := $(or $(MAKECMDGOALS),all)
ifneq ($(filter-out clean uninstall deps,$(_goals)),)
ifeq ($(filter check demo demo-pytest demo-playwright deps,$(_goals)),)
$(foreach d,$(_deps),$(if $(shell $(PKG_CONFIG) --exists $(word 1,$(subst :, ,$(d))) && echo y),,\
  $(error missing library '$(word 1,$(subst :, ,$(d)))': install the Debian package '$(word 2,$(subst :, ,$(d)))' (or run scripts/install-deps as root))))
endif
endif
_pkgs     := $(foreach d,$(_deps),$(word 1,$(subst :, ,$(d))))
# Asked once, when make reads this file, not once per command.
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(_pkgs) 2>/dev/null)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(_pkgs) 2>/dev/null)

comma     := ,
SAN_FLAGS := -fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
WARN      := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
             -Wpointer-arith -Wcast-align -Wwrite-strings -Wvla -Wnull-dereference \
             -Wundef -Wno-unused-parameter
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -I. $(WARN) $(if $(filter 1,$(WERROR)),-Werror) \
             $(if $(filter 1,$(SANITIZE)),$(SAN_FLAGS)) \
             -DHT_VERSION='"$(VERSION)"' -MMD -MP $(DEP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(if $(filter 1,$(SANITIZE)),$(SAN_FLAGS)) $(LDFLAGS)
LIBS       = $(DEP_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Sources are found, not listed: a new file in lib/ or providers/ joins libht,
# a new tools/ht-foo.c becomes bin/ht-foo (with tools/ht-foo/*.c, its parts,
# when it has any), a new tests/unit/test-foo.c a test.
LIB_SRC    := $(sort $(wildcard lib/*.c providers/*.c providers/*/*.c runners/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
LIBHT      := $(O)/libht.a
TOOL_SRC   := $(sort $(wildcard tools/ht-*.c))
TOOLS      := $(TOOL_SRC:tools/%.c=$(BIN)/%)
TOOL_PARTS := $(patsubst %.c,$(O)/%.o,$(sort $(wildcard tools/ht-*/*.c)))
UNIT_SRC   := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPERS    := $(HELPER_SRC:tests/helpers/%.c=$(O)/tests/%)
SHELL_TESTS := $(sort $(wildcard tests/t[0-9]*.sh))

# The headers a user of libht needs (records, config, diagnostics, exit
# codes, the provider and runner plugin APIs) and what they include; the
# others (http, oci, registry, ...) stay inside the tree.
PUBLIC_HEADERS := $(addprefix include/ht/,exit.h diag.h util.h jsonl.h config.h provider.h runner.h)
# A directory under PREFIX is written relative to ${prefix} (so that
# pkg-config --define-prefix and a sysroot work), any other as it is.
_pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

.PHONY: all check test tests demo demo-pytest demo-playwright bench install uninstall clean deps deb fuzz fuzz-build
all: $(LIBHT) $(TOOLS)

# A target whose recipe fails is removed, so a half-written file never
# passes for a finished one.
.DELETE_ON_ERROR:

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The HTML report's template, lib/report.html, as C strings (one a line)
# for lib/report-html.c.
GEN_REPORT_HTML = sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n",/' $< >$@.tmp && mv -f $@.tmp $@
$(O)/gen/report-html.h: lib/report.html
	@mkdir -p $(@D)
	$(Q)$(GEN_REPORT_HTML)
$(O)/lib/report-html.o: $(O)/gen/report-html.h
$(O)/lib/report-html.o: ALL_CFLAGS += -I$(O)/gen

# The git revision the tools are built from, for --version: written to
# $(O)/gen/revision.h only when it changes, so an unchanged tree rebuilds
# nothing. Outside a git checkout (a release tarball) it is "unknown".
HT_REVISION := $(or $(shell git rev-parse --short=12 HEAD 2>/dev/null),unknown)$(shell git rev-parse HEAD >/dev/null 2>&1 && { git diff --quiet HEAD -- 2>/dev/null || echo -dirty; })
$(O)/gen/revision.h: FORCE
	@mkdir -p $(@D)
	$(Q)echo '#define HT_REVISION "$(HT_REVISION)"' >$@.tmp && \
	  if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(O)/lib/diag.o: $(O)/gen/revision.h
$(O)/lib/diag.o: ALL_CFLAGS += -I$(O)/gen -DHT_HAVE_REVISION_H
.PHONY: FORCE
FORCE:

$(LIBHT): $(LIB_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BIN)/%: $(O)/tools/%.o $(LIBHT)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBHT) $(LIBS)
# A tool's parts (tools/ht-foo/*.c) are linked into it alone.
$(foreach t,$(TOOL_SRC:tools/%.c=%),$(eval $(BIN)/$(t): $(filter $(O)/tools/$(t)/%,$(TOOL_PARTS))))

$(O)/tests/%: $(O)/tests/unit/%.o $(LIBHT)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBHT) $(LIBS)

$(O)/tests/%: $(O)/tests/helpers/%.o $(LIBHT)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBHT) $(LIBS)

# The preload library that makes writes fail, for I/O error tests.
$(O)/tests/failwrite.so: tests/helpers/failwrite.c.in
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -fPIC -O2 -x c -o $@ $< -ldl

deps:
	@scripts/install-deps

# check: set up the machine (scripts/install-deps), build, run every test, end
# with "N passed, N failed, N skipped".
check: deps
	@$(MAKE) --no-print-directory _check

tests: all $(UNIT_BIN) $(HELPERS) $(if $(wildcard tests/helpers/failwrite.c.in),$(O)/tests/failwrite.so)

.PHONY: _check
_check: tests
	$(if $(FUZZ_OK),@$(MAKE) --no-print-directory fuzz-build FUZZ_OK=y)
	@HT_BIN="$(CURDIR)/$(BIN)" HT_TEST_FUZZ="$(if $(FUZZ_OK),$(CURDIR)/$(FUZZ_O))" HT_TEST_MAKEFLAGS="SANITIZE=$(SANITIZE) WERROR=$(WERROR)" HT_TEST_HELPERS="$(CURDIR)/$(O)/tests" HT_SRC="$(CURDIR)" \
	  tests/run-tests $(O)/test-results $(if $(TESTS),$(TESTS),$(UNIT_BIN) $(SHELL_TESTS))

test: _check

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C examples/shop HT_BIN="$(CURDIR)/$(BIN)" demo

# examples/pytest: a pytest suite through the pytest plugin (FAIL=1, GRANULARITY=test).
demo-pytest: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C examples/pytest HT_BIN="$(CURDIR)/$(BIN)" demo

# examples/playwright: a Playwright suite through the playwright plugin, with
# Debian's chromium (FAIL=1, TIMEOUT=1, GRANULARITY=file).
demo-playwright: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C examples/playwright HT_BIN="$(CURDIR)/$(BIN)" demo

bench: all
	@for b in bench/*.sh; do echo "== $$b"; HT_BIN="$(CURDIR)/$(BIN)" sh $$b || exit 1; done

# The pkg-config file is written at install time, for the PREFIX given then.
# libht is only a static library, so a program that links it links what
# libht.a needs itself: the libraries are in Requires and Libs, not in the
# .private fields (which `pkg-config --libs` leaves out, and with --static
# would ask for the static libraries of libcurl's own dependencies too).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/ht
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(LIBHT) $(DESTDIR)$(LIBDIR)/libht.a
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCDIR)/ht/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(call _pc_dir,$(LIBDIR))' 'includedir=$(call _pc_dir,$(INCDIR))' '' \
	  'Name: hypertest' 'Description: libht, the hypertest library' 'Version: $(VERSION)' \
	  'Requires: $(_pkgs)' 'Libs: -L$${libdir} -lht -lpthread -lm' 'Cflags: -I$${includedir}' \
	  >$(DESTDIR)$(LIBDIR)/pkgconfig/hypertest.pc.tmp
	mv -f $(DESTDIR)$(LIBDIR)/pkgconfig/hypertest.pc.tmp $(DESTDIR)$(LIBDIR)/pkgconfig/hypertest.pc
	install -d $(DESTDIR)$(DATADIR)/hypertest
	install -m 644 mk/hypertest.mk $(DESTDIR)$(DATADIR)/hypertest/hypertest.mk

# Removes what install put, and hypertest's own directories (include/ht,
# share/hypertest) when that leaves them empty.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOL_SRC:.c=)))
	rm -f $(DESTDIR)$(LIBDIR)/libht.a $(DESTDIR)$(LIBDIR)/pkgconfig/hypertest.pc
	rm -f $(addprefix $(DESTDIR)$(INCDIR)/ht/,$(notdir $(PUBLIC_HEADERS)))
	rm -f $(DESTDIR)$(DATADIR)/hypertest/hypertest.mk
	rmdir $(DESTDIR)$(INCDIR)/ht $(DESTDIR)$(DATADIR)/hypertest 2>/dev/null || :

# A Debian package of the tools (scripts/mkdeb): build/hypertest_VERSION_ARCH.deb.
deb:
	$(Q)$(MAKE) --no-print-directory SANITIZE=0 all
	$(Q)MKDEB_MAKEFLAGS=SANITIZE=0 scripts/mkdeb $(VERSION) build
	$(Q)if command -v lintian >/dev/null; then lintian --fail-on error build/hypertest_$(VERSION)_*.deb; \
	  else echo "make deb: lintian is not installed: the package was not checked" >&2; fi
# --- fuzzing (docs/fuzzing.md) ----------------------------------------------
# Each tests/fuzz/fuzz-NAME.c is a libFuzzer harness, built with clang
# (FUZZ_CC) and -fsanitize=fuzzer,address,undefined into build/fuzz/, apart
# from the other builds; its seeds are tests/fuzz/corpus/NAME/. `make fuzz`
# runs each for FUZZ_TIME seconds (nice'd), its new inputs kept in
# build/fuzz/corpus/NAME/; make check runs each over its seeds (t0015)
# when FUZZ_CC can link a libFuzzer program, and says why not otherwise.
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_O     := build/fuzz
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz-*.c))
# FUZZ='jsonl tap' builds and runs only those.
FUZZ       ?= $(FUZZ_SRC:tests/fuzz/fuzz-%.c=%)
FUZZERS    := $(FUZZ:%=$(FUZZ_O)/fuzz-%)
FUZZ_SAN   := -fsanitize=address$(comma)undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -I. $(WARN) $(if $(filter 1,$(WERROR)),-Werror) \
              -fsanitize=fuzzer-no-link $(FUZZ_SAN) -DHT_VERSION='"$(VERSION)"' -MMD -MP \
              $(DEP_CFLAGS) -O1 -g
# Whether FUZZ_CC links a libFuzzer program: asked once, and only when a
# recipe that needs it runs (never in a prerequisite list, which make
# expands when it reads this file).
FUZZ_OK = $(eval FUZZ_OK := $(shell printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' | \
            $(FUZZ_CC) -fsanitize=fuzzer -x c -o /dev/null - >/dev/null 2>&1 && echo y))$(FUZZ_OK)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_O)/gen/report-html.h: lib/report.html
	@mkdir -p $(@D)
	$(Q)$(GEN_REPORT_HTML)
$(FUZZ_O)/lib/report-html.o: $(FUZZ_O)/gen/report-html.h
$(FUZZ_O)/lib/report-html.o: FUZZ_CFLAGS += -I$(FUZZ_O)/gen
$(FUZZ_O)/libht.a: $(LIB_SRC:%.c=$(FUZZ_O)/%.o)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(FUZZ_O)/fuzz-%: $(FUZZ_O)/tests/fuzz/fuzz-%.o $(FUZZ_O)/libht.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_O)/libht.a $(LIBS)

fuzz-build:
	@$(if $(FUZZ_OK),,echo "fuzz: '$(FUZZ_CC)' cannot link a libFuzzer program (install the Debian package clang)" >&2; exit 69)
	@$(MAKE) --no-print-directory _fuzz-bins
# An aggregate with a recipe, so that make names no harness "up to date".
.PHONY: _fuzz-bins
_fuzz-bins: $(FUZZERS)
	@:

fuzz: fuzz-build
	@for f in $(FUZZERS); do n=$${f##*/fuzz-}; mkdir -p $(FUZZ_O)/corpus/$$n; \
	  echo "== $$f ($(FUZZ_TIME) s)"; \
	  nice -n 19 $$f -max_total_time=$(FUZZ_TIME) -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_O)/$$n- \
	    $(if $(FUZZ_ARGS),$(FUZZ_ARGS)) $(FUZZ_O)/corpus/$$n tests/fuzz/corpus/$$n 2>$(FUZZ_O)/$$n.log || \
	    { tail -n 60 $(FUZZ_O)/$$n.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_O)/$$n.log; done

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(TOOL_SRC:tools/%.c=$(O)/tools/%.d) $(TOOL_PARTS:.o=.d) $(UNIT_SRC:%.c=$(O)/%.d) $(HELPER_SRC:%.c=$(O)/%.d)
-include $(wildcard $(FUZZ_O)/*/*.d $(FUZZ_O)/*/*/*.d)
.SECONDARY:
