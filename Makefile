# m365-bypass - Squid external ACL helper and c-icap service that let
# Microsoft 365 through a proxy without auth, TLS inspection or scanning.
#
#   make            build everything into build/
#   make check      install missing packages, build, run every test
#   make run        install missing packages, build, start Squid + helper
#   make bench      benchmark the helper and classify()
#   make install    PREFIX=/usr DESTDIR=...

PREFIX      ?= /usr/local
DESTDIR     ?=
SQUID_LIBEXEC ?= /usr/lib/squid
CICAP_MODDIR  ?= $(shell c-icap-config --libdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/c_icap
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share/m365-bypass
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd/system

CC          ?= cc
PKG_CONFIG  ?= pkg-config
PKGS        := jansson libpcre2-8 hiredis libcrypto
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
               -Ilib $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
OPT         ?= -O2 -g
CFLAGS      ?=
ALL_CFLAGS  := $(CFLAGS_BASE) $(OPT) $(CFLAGS)
LIBS        := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lpthread
CTL_LIBS    := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
SAN_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined

B           := build
LIB_SRC     := $(wildcard lib/*.c)
LIB_OBJ     := $(LIB_SRC:lib/%.c=$(B)/obj/lib/%.o) $(B)/obj/lib/bundled_data.o
SAN_OBJ     := $(LIB_SRC:lib/%.c=$(B)/san/lib/%.o) $(B)/obj/lib/bundled_data.o
BUNDLED     := lists/endpoints-worldwide.json
HELPER_SRC  := $(wildcard helpers/*.c)
CTL_SRC     := $(wildcard lists/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

PROGS       := $(B)/ext_m365_acl $(B)/m365ctl
SAN_PROGS   := $(B)/san/ext_m365_acl $(B)/san/m365ctl

.PHONY: all check run bench fuzz install deps clean format tests
all: $(PROGS)

# --- dependencies (Debian 12) ----------------------------------------------
deps:
	@sh tools/deps.sh

# --- library -----------------------------------------------------------------
$(B)/obj/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/obj/lib
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(B)/san/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/san/lib
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -fPIC -c -o $@ $<
$(B)/obj/lib/bundled_data.o: lib/bundled_data.S $(BUNDLED) | $(B)/obj/lib
	$(CC) -c -fPIC -DBUNDLED_FILE='"$(BUNDLED)"' -o $@ $<
$(B)/libm365.a: $(LIB_OBJ)
	ar rcs $@ $^
$(B)/san/libm365.a: $(SAN_OBJ)
	ar rcs $@ $^

# --- programs ----------------------------------------------------------------
$(B)/ext_m365_acl: $(HELPER_SRC) $(wildcard helpers/*.h) $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -Ihelpers -o $@ $(HELPER_SRC) $(B)/libm365.a $(LIBS)
$(B)/m365ctl: $(CTL_SRC) $(wildcard lists/*.h) $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -Ilists -o $@ $(CTL_SRC) $(B)/libm365.a $(LIBS) $(CTL_LIBS)
$(B)/san/ext_m365_acl: $(HELPER_SRC) $(wildcard helpers/*.h) $(B)/san/libm365.a
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Ihelpers -o $@ $(HELPER_SRC) $(B)/san/libm365.a $(LIBS)
$(B)/san/m365ctl: $(CTL_SRC) $(wildcard lists/*.h) $(B)/san/libm365.a
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Ilists -o $@ $(CTL_SRC) $(B)/san/libm365.a $(LIBS) $(CTL_LIBS)

# --- tests -------------------------------------------------------------------
$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/san/libm365.a | $(B)/tests
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Itests/unit -DFIXTURES='"tests/fixtures"' \
	    -o $@ $< $(B)/san/libm365.a $(LIBS) -lcmocka
tests: $(PROGS) $(SAN_PROGS) $(UNIT_BIN)

check: deps
	@$(MAKE) --no-print-directory tests
	@sh tests/run.sh

# --- demo and benchmark ------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@sh contrib/squid/run.sh

$(B)/bench_classify: bench/bench_classify.c $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -O3 -o $@ $< $(B)/libm365.a $(LIBS)
$(B)/bench_floor: bench/bench_floor.c
	$(CC) $(ALL_CFLAGS) -O3 -o $@ $<
$(B)/bench_driver: bench/bench_driver.c
	$(CC) $(ALL_CFLAGS) -O3 -o $@ $<
bench: deps
	@$(MAKE) --no-print-directory all $(B)/bench_classify $(B)/bench_floor $(B)/bench_driver $(B)/bench_reload
	@sh bench/run.sh

# --- fuzzing (clang's libFuzzer; not part of `make check`) ------------------
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = $(filter-out -Wmissing-prototypes,$(CFLAGS_BASE))
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(wildcard lib/*.h) $(HELPER_SRC) | $(B)/fuzz
	clang $(FUZZ_CFLAGS) $(FUZZ_FLAGS) -Ihelpers -o $@ $< $(LIB_SRC) \
	    $(filter-out helpers/ext_m365_acl.c,$(HELPER_SRC)) $(B)/obj/lib/bundled_data.o $(LIBS)
fuzz: deps
	@command -v clang >/dev/null || apt-get install -y -qq clang >/dev/null
	@$(MAKE) --no-print-directory $(B)/obj/lib/bundled_data.o \
	    $(B)/fuzz/fuzz_endpoints $(B)/fuzz/fuzz_local $(B)/fuzz/fuzz_classify $(B)/fuzz/fuzz_proto
	@sh tests/fuzz/run.sh
$(B)/fuzz:
	mkdir -p $@

# --- install -----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(SQUID_LIBEXEC) $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)
	install -m 755 $(B)/ext_m365_acl $(DESTDIR)$(SQUID_LIBEXEC)/ext_m365_acl
	install -m 755 $(B)/m365ctl $(DESTDIR)$(PREFIX)/bin/m365ctl
	install -m 644 helpers/ext_m365_acl.8 lists/m365ctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(BUNDLED) $(DESTDIR)$(DATADIR)/endpoints-worldwide.json
	install -m 644 contrib/squid/squid.conf $(DESTDIR)$(DATADIR)/squid.conf.example
	install -d $(DESTDIR)$(SYSTEMDDIR)
	sed 's#/usr/bin/m365ctl#$(PREFIX)/bin/m365ctl#' contrib/systemd/m365ctl-update.service \
	    > $(DESTDIR)$(SYSTEMDDIR)/m365ctl-update.service
	install -m 644 contrib/systemd/m365ctl-update.timer $(DESTDIR)$(SYSTEMDDIR)/
	install -m 644 lists/local.list.example $(DESTDIR)$(DATADIR)/local.list.example

format:
	clang-format -i lib/*.[ch] helpers/*.[ch] lists/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c bench/*.c

clean:
	rm -rf $(B)

$(B)/obj/lib $(B)/san/lib $(B)/tests:
	mkdir -p $@
$(B)/bench_reload: bench/bench_reload.c $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -O2 -o $@ $< $(B)/libm365.a $(LIBS)
