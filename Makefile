# hypertest: one non-recursive build for the tools, libht, the tests.
#
#   make                 build libht (build/std/libht.a) and every tool into bin/
#   make check           install missing packages (as root), build, run all tests
#   make check SANITIZE=1  the same under ASan + UBSan (CI does this)
#   make tests           build everything the tests need (unit tests, helpers), run nothing
#   make demo            build, then run examples/shop on the local provider
#   make demo-pytest     build, then run examples/pytest (a pytest suite) likewise
#   make bench           run the benchmarks under bench/ and print their figures
#   make install PREFIX=/usr/local DESTDIR=
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
ifeq ($(filter check demo demo-pytest deps,$(_goals)),)
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
# a new tools/ht-foo.c becomes bin/ht-foo, a new tests/unit/test-foo.c a test.
LIB_SRC    := $(sort $(wildcard lib/*.c providers/*.c providers/*/*.c runners/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(O)/%.o)
LIBHT      := $(O)/libht.a
TOOL_SRC   := $(sort $(wildcard tools/ht-*.c))
TOOLS      := $(TOOL_SRC:tools/%.c=$(BIN)/%)
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

.PHONY: all check test tests demo demo-pytest bench install uninstall clean deps
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
$(O)/gen/report-html.h: lib/report.html
	@mkdir -p $(@D)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n",/' $< >$@.tmp && mv -f $@.tmp $@
$(O)/lib/report-html.o: $(O)/gen/report-html.h
$(O)/lib/report-html.o: ALL_CFLAGS += -I$(O)/gen

$(LIBHT): $(LIB_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BIN)/%: $(O)/tools/%.o $(LIBHT)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBHT) $(LIBS)

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
	@HT_BIN="$(CURDIR)/$(BIN)" HT_TEST_MAKEFLAGS="SANITIZE=$(SANITIZE) WERROR=$(WERROR)" HT_TEST_HELPERS="$(CURDIR)/$(O)/tests" HT_SRC="$(CURDIR)" \
	  tests/run-tests $(O)/test-results $(if $(TESTS),$(TESTS),$(UNIT_BIN) $(SHELL_TESTS))

test: _check

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C examples/shop HT_BIN="$(CURDIR)/$(BIN)" demo

# examples/pytest: a pytest suite through the pytest plugin (FAIL=1, GRANULARITY=test).
demo-pytest: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C examples/pytest HT_BIN="$(CURDIR)/$(BIN)" demo

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

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(TOOL_SRC:tools/%.c=$(O)/tools/%.d) $(UNIT_SRC:%.c=$(O)/%.d) $(HELPER_SRC:%.c=$(O)/%.d)
.SECONDARY:
