# m365-bypass - Squid external ACL helper and c-icap service that let
# Microsoft 365 through a proxy without auth, TLS inspection or scanning.
#
#   make            build everything into build/
#   make check      install missing packages, build, run every test
#   make run        install missing packages, build, start Squid + helper
#   make bench      benchmark the helper, classify(), local lists, reloads
#                   and the ICAP service (BENCH_BASE_REV=REV: beside REV)
#   make fuzz       run the libFuzzer targets (FUZZ_SECONDS each)
#   make install    PREFIX=/usr DESTDIR=...
#   make uninstall  the same PREFIX and DESTDIR: removes what install put

PREFIX      ?= /usr/local
DESTDIR     ?=
SYSCONFDIR  ?= /etc
# Squid's helpers: Debian's Squid keeps its own in /usr/lib/squid, which
# PREFIX=/usr gives.  c-icap's modules: wherever c-icap looks, whatever
# PREFIX says (DESTDIR still applies).
SQUID_LIBEXEC ?= $(PREFIX)/lib/squid
CICAP_MODDIR  ?= $(patsubst %/,%,$(shell c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap))
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share/m365-bypass
EXAMPLESDIR ?= $(PREFIX)/share/doc/m365-bypass/examples
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

CC          ?= cc
# parallel jobs of the build that `make check` runs first
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
PKG_CONFIG  ?= pkg-config
PKGS        := jansson libpcre2-8 hiredis libcrypto libpsl
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
               -Ilib $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# Link-time optimisation lets the request path inline across files (the
# normaliser into classify, the port check into the walk).
OPT         ?= -O2 -g -flto=auto
AR          := $(if $(findstring -flto,$(OPT)),gcc-ar,ar)
CFLAGS      ?=
ALL_CFLAGS  := $(CFLAGS_BASE) $(OPT) $(CFLAGS)
LIBS        := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lpthread
CTL_LIBS    := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
SAN_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
# c-icap's headers are not -Wstrict-prototypes clean; its own flags bring
# -fvisibility=hidden and -DCI_BUILD_MODULE.
CICAP_CFLAGS := $(filter-out -O2 -g -Wall,$(shell c-icap-config --cflags 2>/dev/null)) \
                -Wno-strict-prototypes
CICAP_LIBS  := $(shell c-icap-libicapapi-config --libs 2>/dev/null)
# Only the m365_* API and c-icap's `service` leave the module.
SO_LDFLAGS  := -shared -Wl,--version-script=icap/srv_m365_bypass.map \
               -Wl,-Bsymbolic -Wl,--as-needed

B           := build
LIB_SRC     := $(wildcard lib/*.c)
LIB_HDR     := $(wildcard lib/*.h)
LIB_OBJ     := $(LIB_SRC:lib/%.c=$(B)/obj/lib/%.o) $(B)/obj/lib/bundled_data.o
SAN_OBJ     := $(LIB_SRC:lib/%.c=$(B)/san/lib/%.o) $(B)/obj/lib/bundled_data.o
BUNDLED     := lists/endpoints-worldwide.json
HELPER_SRC  := $(wildcard helpers/*.c)
# the Squid answer format, shared by the helper and m365ctl lookup
SQUID_SRC   := helpers/squid_answer.c
CTL_SRC     := $(wildcard ctl/*.c) $(SQUID_SRC)
ICAP_SRC    := $(wildcard icap/*.c)
ICAP_DEPS   := $(ICAP_SRC) $(wildcard icap/*.h) icap/srv_m365_bypass.map
# the differential test's reference matcher, generators and checker
# (tests/unit/ref_*.c), shared with its fuzz target
REF_SRC     := tests/unit/ref_scan.c tests/unit/ref_rng.c tests/unit/ref_gen.c \
               tests/unit/ref_query.c tests/unit/ref_check.c
REF_HDR     := tests/unit/ref_scan.h tests/unit/ref_gen.h tests/unit/ref_check.h
# (compiled once, with the sanitizers, and linked into every unit test)
REF_OBJ     := $(REF_SRC:tests/unit/%.c=$(B)/san/tests/%.o)
# front-end code the unit tests cover, beside the library
UNIT_EXTRA  := helpers/proto.c helpers/squid_answer.c icap/dest.c \
               icap/icap_headers.c ctl/prom.c ctl/runlog.c ctl/changes.c \
               ctl/changes_ms.c ctl/changes_text.c ctl/update_ident.c \
               $(REF_OBJ)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

PROGS       := $(B)/ext_m365_acl $(B)/m365ctl $(B)/srv_m365_bypass.so
SAN_PROGS   := $(B)/san/ext_m365_acl $(B)/san/m365ctl \
               $(B)/san/srv_m365_bypass.so

.PHONY: all check run bench fuzz install uninstall deps clean format tests
all: $(PROGS)

# --- dependencies (Debian 12) ----------------------------------------------
deps:
	@sh tools/deps.sh

# --- library -----------------------------------------------------------------
$(B)/obj/lib/%.o: lib/%.c $(LIB_HDR) | $(B)/obj/lib
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<
$(B)/san/lib/%.o: lib/%.c $(LIB_HDR) | $(B)/san/lib
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -fPIC -c -o $@ $<
$(B)/obj/lib/bundled_data.o: lib/bundled_data.S $(BUNDLED) | $(B)/obj/lib
	$(CC) -c -fPIC -DBUNDLED_FILE='"$(BUNDLED)"' -o $@ $<
$(B)/libm365.a: $(LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^
$(B)/san/libm365.a: $(SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

# --- programs ----------------------------------------------------------------
$(B)/ext_m365_acl: $(HELPER_SRC) $(wildcard helpers/*.h) $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -Ihelpers -o $@ $(HELPER_SRC) $(B)/libm365.a $(LIBS)
$(B)/m365ctl: $(CTL_SRC) $(wildcard ctl/*.h) $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -Ictl -Ihelpers -o $@ $(CTL_SRC) $(B)/libm365.a \
	    $(LIBS) $(CTL_LIBS)
$(B)/srv_m365_bypass.so: $(ICAP_DEPS) $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) $(CICAP_CFLAGS) -fPIC -Iicap $(SO_LDFLAGS) -o $@ \
	    $(ICAP_SRC) $(B)/libm365.a $(LIBS) $(CICAP_LIBS)
$(B)/san/ext_m365_acl: $(HELPER_SRC) $(wildcard helpers/*.h) $(B)/san/libm365.a
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Ihelpers -o $@ $(HELPER_SRC) \
	    $(B)/san/libm365.a $(LIBS)
$(B)/san/m365ctl: $(CTL_SRC) $(wildcard ctl/*.h) $(B)/san/libm365.a
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Ictl -Ihelpers -o $@ $(CTL_SRC) \
	    $(B)/san/libm365.a $(LIBS) $(CTL_LIBS)
# loaded into a c-icap built without sanitizers: run it with the ASan
# runtime preloaded (tests/icap_lib.sh does)
$(B)/san/srv_m365_bypass.so: $(ICAP_DEPS) $(B)/san/libm365.a
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) $(CICAP_CFLAGS) -fPIC -Iicap \
	    $(SO_LDFLAGS) -o $@ $(ICAP_SRC) $(B)/san/libm365.a $(LIBS) \
	    $(CICAP_LIBS)

# --- tests -------------------------------------------------------------------
$(REF_OBJ): $(B)/san/tests/%.o: tests/unit/%.c $(REF_HDR) $(LIB_HDR) | $(B)/san/tests
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Itests/unit -c -o $@ $<
$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(UNIT_EXTRA) $(REF_HDR) \
	    $(B)/san/libm365.a | $(B)/tests
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Itests/unit -Ihelpers -Iicap -Ictl \
	    -DFIXTURES='"tests/fixtures"' -o $@ $< $(UNIT_EXTRA) \
	    $(B)/san/libm365.a $(LIBS) -lcmocka
tests: $(PROGS) $(SAN_PROGS) $(UNIT_BIN)

check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@sh tests/run.sh

# --- demo and benchmark ------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@sh contrib/squid/run.sh

$(B)/bench_classify: bench/bench_classify.c $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -O3 -o $@ $< $(B)/libm365.a $(LIBS)
$(B)/bench_floor: bench/bench_floor.c
	$(CC) $(ALL_CFLAGS) -O3 -o $@ $<
$(B)/bench_driver: bench/bench_driver.c bench/bench_mix.c bench/bench_proc.c \
	    bench/bench_clock.h bench/bench_mix.h bench/bench_proc.h
	$(CC) $(ALL_CFLAGS) -O3 -o $@ bench/bench_driver.c bench/bench_mix.c \
	    bench/bench_proc.c
$(B)/bench_reload_load: bench/bench_reload_load.c bench/bench_mix.c \
	    bench/bench_proc.c bench/bench_clock.h bench/bench_mix.h \
	    bench/bench_proc.h $(B)/libm365.a
	$(CC) $(ALL_CFLAGS) -O2 -o $@ bench/bench_reload_load.c \
	    bench/bench_mix.c bench/bench_proc.c $(B)/libm365.a $(LIBS)
$(B)/bench_icap: bench/bench_icap.c bench/bench_clock.h
	$(CC) $(ALL_CFLAGS) -O2 -o $@ $<
$(B)/bench_mem: bench/bench_mem.c bench/bench_mix.c bench/bench_proc.c \
	    bench/bench_clock.h bench/bench_mix.h bench/bench_proc.h
	$(CC) $(ALL_CFLAGS) -O2 -o $@ bench/bench_mem.c bench/bench_mix.c \
	    bench/bench_proc.c
# BENCH_BASE_REV=REV also builds revision REV (bench/base.sh) and runs it
# beside the current build; BENCH_BASE=DIR uses a build of it already made.
bench: deps
	@$(MAKE) --no-print-directory all $(B)/bench_classify $(B)/bench_floor \
	    $(B)/bench_driver $(B)/bench_reload_load $(B)/bench_icap \
	    $(B)/bench_mem
	@if [ -n "$(BENCH_BASE_REV)" ]; then \
	    base=$$(sh bench/base.sh "$(BENCH_BASE_REV)") || exit 1; \
	    BENCH_BASE=$$base sh bench/run.sh; \
	else \
	    sh bench/run.sh; \
	fi

# --- fuzzing -----------------------------------------------------------------
# Each target tests/fuzz/fuzz_T.c keeps its seeds and every crash ever found
# in tests/fuzz/corpus/T/.  `make check` replays them all with the ASan+UBSan
# build (tests/fuzz/replay.c instead of libFuzzer, run by
# tests/integration/test_fuzz_replay.sh); `make fuzz` runs clang's libFuzzer
# on each target for FUZZ_SECONDS (default 60); FUZZ_TARGETS="store local"
# picks targets.
FUZZ_ALL    := endpoints local classify proto icap_dest store local_breadth farm \
               differential redfa changes
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
FUZZ_CFLAGS  = $(filter-out -Wmissing-prototypes,$(CFLAGS_BASE))
FUZZ_EXTRA  := helpers/proto.c helpers/squid_answer.c icap/dest.c
# what one target links beside FUZZ_EXTRA: FUZZ_EXTRA_<target>
FUZZ_EXTRA_differential := $(REF_SRC)
FUZZ_EXTRA_changes := ctl/changes.c ctl/changes_ms.c ctl/changes_text.c
FUZZ_REPLAY := $(FUZZ_ALL:%=$(B)/fuzz-replay/fuzz_%)
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(LIB_HDR) $(FUZZ_EXTRA) | $(B)/fuzz
	clang $(FUZZ_CFLAGS) $(FUZZ_FLAGS) -Ihelpers -Iicap -Ictl -Itests/unit -o $@ \
	    $< $(LIB_SRC) $(FUZZ_EXTRA) $(FUZZ_EXTRA_$*) \
	    $(B)/obj/lib/bundled_data.o $(LIBS)
$(B)/fuzz-replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_EXTRA) \
	    $(B)/san/libm365.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SAN_FLAGS) -Ihelpers -Iicap -Ictl -Itests/unit -o $@ \
	    $< tests/fuzz/replay.c $(FUZZ_EXTRA) $(FUZZ_EXTRA_$*) \
	    $(B)/san/libm365.a $(LIBS)
$(B)/fuzz/fuzz_differential $(B)/fuzz-replay/fuzz_differential: $(REF_SRC) \
	    $(REF_HDR)
# the replay binaries are part of what `make check` builds
tests: $(FUZZ_REPLAY)
fuzz: deps
	@command -v clang >/dev/null || apt-get install -y -qq clang >/dev/null
	@$(MAKE) --no-print-directory $(B)/obj/lib/bundled_data.o \
	    $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
	@FUZZ_TARGETS="$(FUZZ_TARGETS)" sh tests/fuzz/run.sh

# --- install -----------------------------------------------------------------
# Every file install writes, without DESTDIR; uninstall removes these.
UNITS       := m365ctl-update.service m365ctl-update.timer \
               m365ctl-update-failure.service m365ctl-metrics.service \
               m365ctl-export@.service
EXAMPLES    := squid.conf.example squid-icap.conf.example \
               squid-conf.d-m365-bypass.conf c-icap-m365_bypass.conf.example \
               local.list.example prometheus.yml.example \
               m365-bypass.rules.yml m365-bypass.json \
               m365ctl-export-nft.conf m365ctl-export-squid.conf
INSTALLED   := $(SQUID_LIBEXEC)/ext_m365_acl $(PREFIX)/bin/m365ctl \
               $(CICAP_MODDIR)/srv_m365_bypass.so \
               $(MANDIR)/man8/ext_m365_acl.8 $(MANDIR)/man8/m365ctl.8 \
               $(MANDIR)/man8/srv_m365_bypass.8 \
               $(DATADIR)/endpoints-worldwide.json \
               $(EXAMPLES:%=$(EXAMPLESDIR)/%) $(UNITS:%=$(SYSTEMDDIR)/%) \
               $(TMPFILESDIR)/m365-bypass.conf $(SYSUSERSDIR)/m365-bypass.conf
# The installed paths written into the files that name them.
INSTALL_SED := -e 's|/usr/bin/m365ctl|$(PREFIX)/bin/m365ctl|g' \
               -e 's|/usr/lib/squid/ext_m365_acl|$(SQUID_LIBEXEC)/ext_m365_acl|g' \
               -e 's|/usr/share/doc/m365-bypass/examples|$(EXAMPLESDIR)|g'
DEFAULTS    := $(SYSCONFDIR)/default/m365-bypass

install: all
	install -d $(DESTDIR)$(SQUID_LIBEXEC) $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(CICAP_MODDIR) \
	    $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/default
	install -m 755 $(B)/ext_m365_acl $(DESTDIR)$(SQUID_LIBEXEC)/ext_m365_acl
	install -m 755 $(B)/m365ctl $(DESTDIR)$(PREFIX)/bin/m365ctl
	install -m 644 $(B)/srv_m365_bypass.so \
	    $(DESTDIR)$(CICAP_MODDIR)/srv_m365_bypass.so
	install -m 644 helpers/ext_m365_acl.8 ctl/m365ctl.8 \
	    icap/srv_m365_bypass.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(BUNDLED) $(DESTDIR)$(DATADIR)/endpoints-worldwide.json
	sed $(INSTALL_SED) contrib/squid/squid.conf \
	    >$(DESTDIR)$(EXAMPLESDIR)/squid.conf.example
	sed $(INSTALL_SED) contrib/squid/conf.d/m365-bypass.conf \
	    >$(DESTDIR)$(EXAMPLESDIR)/squid-conf.d-m365-bypass.conf
	install -m 644 contrib/squid/icap.conf \
	    $(DESTDIR)$(EXAMPLESDIR)/squid-icap.conf.example
	install -m 644 contrib/c-icap/m365_bypass.conf \
	    $(DESTDIR)$(EXAMPLESDIR)/c-icap-m365_bypass.conf.example
	install -m 644 lists/local.list.example \
	    contrib/prometheus/m365-bypass.rules.yml \
	    contrib/grafana/m365-bypass.json \
	    contrib/systemd/m365ctl-export-nft.conf \
	    contrib/systemd/m365ctl-export-squid.conf $(DESTDIR)$(EXAMPLESDIR)/
	sed $(INSTALL_SED) contrib/prometheus/prometheus.yml.example \
	    >$(DESTDIR)$(EXAMPLESDIR)/prometheus.yml.example
	for u in $(UNITS); do \
	    sed $(INSTALL_SED) contrib/systemd/$$u >$(DESTDIR)$(SYSTEMDDIR)/$$u \
	    || exit 1; done
	cd $(DESTDIR)$(EXAMPLESDIR) && chmod 644 squid.conf.example \
	    squid-conf.d-m365-bypass.conf prometheus.yml.example
	cd $(DESTDIR)$(SYSTEMDDIR) && chmod 644 $(UNITS)
	install -m 644 contrib/tmpfiles.d/m365-bypass.conf \
	    $(DESTDIR)$(TMPFILESDIR)/m365-bypass.conf
	install -m 644 contrib/sysusers.d/m365-bypass.conf \
	    $(DESTDIR)$(SYSUSERSDIR)/m365-bypass.conf
	@# an admin's /etc/default/m365-bypass stays as it is
	if [ -n "$(DESTDIR)" ] || [ ! -e $(DEFAULTS) ]; then \
	    install -m 644 contrib/default/m365-bypass $(DESTDIR)$(DEFAULTS); fi
	@# on the host itself: the user, the state and cache directories
	if [ -z "$(DESTDIR)" ]; then sh tools/install_host.sh \
	    $(SYSUSERSDIR)/m365-bypass.conf; fi

# Leaves the state in /var/lib/m365-bypass, the user m365-bypass, and
# /etc/default/m365-bypass once changed; the directories it made are
# removed when empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	if cmp -s contrib/default/m365-bypass $(DESTDIR)$(DEFAULTS); then \
	    rm -f $(DESTDIR)$(DEFAULTS); fi
	rmdir $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(PREFIX)/share/doc/m365-bypass \
	    $(DESTDIR)$(DATADIR) 2>/dev/null || true

C_FILES = lib/*.[ch] helpers/*.[ch] ctl/*.[ch] icap/*.[ch] tests/unit/*.[ch] \
          tests/fuzz/*.c bench/*.[ch]
format:
	clang-format -i $(C_FILES)

clean:
	rm -rf $(B)

$(B)/obj/lib $(B)/san/lib $(B)/san/tests $(B)/tests $(B)/fuzz:
	mkdir -p $@
