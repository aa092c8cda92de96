# AudioFiler build.
#
# Layout the rules rely on (add files, not rules):
#   lib/*.c              infrastructure (config, database, HTTP, runs, logs): libaf.a,
#                        used by every program
#   analysis/**/*.c      the audio analysis library (decoding, librosa-equal features):
#                        libafaudio.a, used by every program, and libafaudio.so with
#                        its public header and afaudio.pc (see "libafaudio" below)
#   <stage>/af-*.c       one program each (stage = ingest, fetch, extract, train, sql)
#   <stage>/*.c          other files: modules private to that stage's programs
#   sql/NNN_*.sql        migrations, compiled into the programs
#   tests/unit/test_*.c  cmocka test programs (linked with everything)
#
# Every object is built twice: build/ (-O2) and build-asan/ (AddressSanitizer +
# UndefinedBehaviorSanitizer); `make test` runs the tests against both.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libpq libcurl jansson libavformat libavcodec libavutil libswresample fftw3 inih libutf8proc
# ---- deploy: packages (before they are installed: one clear line, not pkg-config noise)
# `make test`, `make demo` and scripts/setup install them first (scripts/install-packages);
# until then pkg-config's complaints are silenced and building says what to run.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lopenblas -lsvm -lm -lpthread
TEST_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
PKGS_PRESENT := $(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo yes)
.PHONY: check-packages
check-packages:
ifneq ($(PKGS_PRESENT),yes)
	@echo "make: the libraries AudioFiler needs are not installed: run scripts/install-packages (as root), or make demo / make test / scripts/setup, which do it first" >&2
	@exit 2
endif
# ---- end deploy: packages

VERSION := $(shell cat VERSION)
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
# -fno-math-errno: nothing reads errno after math functions, and it lets sqrtf vectorise.
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -fno-math-errno $(WARN) -iquote lib -iquote analysis -iquote build-gen $(PKG_CFLAGS) \
	-DAF_VERSION='"$(VERSION)"' -DAF_PROJECT_DIR='"$(CURDIR)"' -DAF_SHARE_DIR='"$(PREFIX)/share/audiofiler"'
OPT_CFLAGS := -O2 -g
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS ?=
# `make V=1` shows whole compiler command lines.
Q := $(if $(V),,@)

STAGES := ingest fetch extract train sql serve
LIB_SRC := $(wildcard lib/*.c)
AFAUDIO_SRC := $(wildcard analysis/*.c analysis/*/*.c)
PROGRAM_SRC := $(wildcard $(addsuffix /af-*.c,$(STAGES)))
STAGE_SRC := $(filter-out $(PROGRAM_SRC),$(wildcard $(addsuffix /*.c,$(STAGES))))
TEST_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
MIGRATIONS := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))
PROGRAMS := $(notdir $(PROGRAM_SRC:.c=))
SCRIPTS := scripts/af-pipeline

.PHONY: all asan demo test test-bins bench install clean
all: $(addprefix build/bin/,$(PROGRAMS))
asan: $(addprefix build-asan/bin/,$(PROGRAMS)) $(addprefix build-asan/tests/,$(notdir $(TEST_SRC:.c=)))

# Migrations are embedded into the programs, so an installed binary knows its schema.
# build-gen/migrations.list changes whenever the set of files does (a migration
# removed or renamed, not only one edited), and migrations.c is remade with it.
MIGRATIONS_LIST := build-gen/migrations.list
$(shell mkdir -p build-gen && (echo '$(MIGRATIONS)' | cmp -s - $(MIGRATIONS_LIST) || echo '$(MIGRATIONS)' > $(MIGRATIONS_LIST)))
build-gen/migrations.c: $(MIGRATIONS) $(MIGRATIONS_LIST) scripts/embed-migrations
	@mkdir -p $(@D)
	$(Q)sh scripts/embed-migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# ---- deploy: paths (lib/paths.c) and installation directories
# SYSCONFDIR: where installed programs read audiofiler.conf and genres.conf. The tree's
# own path and SYSCONFDIR are in build-gen/paths_build.h, remade only when one of them
# changes, so that a moved or copied tree (or another SYSCONFDIR) recompiles paths.c.
SYSCONFDIR ?= /etc/audiofiler
PATHS_H := build-gen/paths_build.h
PATHS_TEXT := \#define AF_BUILD_PROJECT_DIR "$(CURDIR)"\n\#define AF_SYSCONFDIR "$(SYSCONFDIR)"\n
$(shell mkdir -p build-gen && (printf '$(PATHS_TEXT)' | cmp -s - $(PATHS_H) || printf '$(PATHS_TEXT)' > $(PATHS_H)))
# ---- end deploy: paths

# $(1) = output dir, $(2) = extra CFLAGS
define variant
$(1)/obj/%.o: %.c | build-gen/migrations.c build-gen/afaudio.h check-packages
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo '  CC      $(1)/$$<')
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) $$(CFLAGS) -MMD -MP -c $$< -o $$@

$(1)/obj/build-gen/migrations.o: build-gen/migrations.c
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo '  CC      $(1)/$$<')
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) $$(CFLAGS) -MMD -MP -c $$< -o $$@

$(1)/libaf.a: $(patsubst %.c,$(1)/obj/%.o,$(LIB_SRC)) $(1)/obj/build-gen/migrations.o
	@rm -f $$@
	$$(Q)ar rcs $$@ $$^

$(1)/libafaudio.a: $(patsubst %.c,$(1)/obj/%.o,$(AFAUDIO_SRC))
	@rm -f $$@
	$$(Q)ar rcs $$@ $$^

$(1)/bench/%: tests/bench/%.c $(1)/libafaudio.a $(1)/libaf.a $(foreach st,$(STAGES),$(1)/lib$(st).a)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo '  LINK    $$@')
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) $$(CFLAGS) $$< $(foreach st,$(STAGES),$(1)/lib$(st).a) $(1)/libafaudio.a $(1)/libaf.a $(PKG_LIBS) $$(LDFLAGS) -o $$@

$(1)/tests/%: tests/unit/%.c $(1)/libafaudio.a $(1)/libaf.a $(foreach st,$(STAGES),$(1)/lib$(st).a)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo '  LINK    $$@')
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) $$(CFLAGS) $$< $(foreach st,$(STAGES),$(1)/lib$(st).a) $(1)/libafaudio.a $(1)/libaf.a $(PKG_LIBS) $(TEST_LIBS) $$(LDFLAGS) -o $$@
endef

# $(1) = output dir, $(2) = stage: the archive of the stage's private modules.
define stage_archive
$(1)/lib$(2).a: $(patsubst %.c,$(1)/obj/%.o,$(filter $(2)/%,$(STAGE_SRC)))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(Q)ar rcs $$@ $$^
endef

# $(1) = output dir, $(2) = extra CFLAGS, $(3) = program source: a program links its
# own stage's modules, libafaudio and libaf only, so one stage's breakage never blocks
# another's; a program that also uses another stage's modules names those stages in
# <program>_USES (after its own stage on the link line).
af-predict_USES := fetch
af-similar_USES := fetch
af-serve_USES := train fetch
# and libraries of their own: <program>_LIBS.
af-serve_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd)
define program
$(1)/bin/$(notdir $(3:.c=)): $(3) $(1)/lib$(patsubst %/,%,$(dir $(3))).a $(foreach u,$($(notdir $(3:.c=))_USES),$(1)/lib$(u).a) $(1)/libafaudio.a $(1)/libaf.a
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo '  LINK    $$@')
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(2) $$(CFLAGS) $$^ $(PKG_LIBS) $$($(notdir $(3:.c=))_LIBS) $$(LDFLAGS) -o $$@
endef

$(eval $(call variant,build,$(OPT_CFLAGS)))
$(eval $(call variant,build-asan,$(ASAN_CFLAGS)))
$(foreach d,build build-asan,$(foreach st,$(STAGES),$(eval $(call stage_archive,$(d),$(st)))))
$(foreach p,$(PROGRAM_SRC),$(eval $(call program,build,$(OPT_CFLAGS),$(p))))
$(foreach p,$(PROGRAM_SRC),$(eval $(call program,build-asan,$(ASAN_CFLAGS),$(p))))

TEST_BINS := $(addprefix build/tests/,$(notdir $(TEST_SRC:.c=)))
test-bins: all asan $(TEST_BINS)

# `make test` works on a fresh Debian 12 machine: it installs what is missing first
# (then re-reads this Makefile, whose pkg-config calls need the packages).
test:
	scripts/install-packages
	$(MAKE) test-bins
	tests/run

# `make demo`: the offline demo (scripts/demo --help); like `make test`, it installs what
# is missing first.
demo:
	scripts/demo

BENCH_BINS := $(addprefix build/bench/,$(notdir $(BENCH_SRC:.c=)))
bench: all $(BENCH_BINS)
	tests/bench/run

# ---- deploy: install
# Programs to $(PREFIX)/bin; the shipped configuration (defaults, documented) and the
# migrations to $(PREFIX)/share/audiofiler; the configuration to $(SYSCONFDIR) unless
# a file of that name is there already (an administrator's edits are kept). Installed
# programs read only these (lib/paths.h), never this tree.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/audiofiler/sql $(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(addprefix build/bin/,$(PROGRAMS)) $(SCRIPTS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MIGRATIONS) $(DESTDIR)$(PREFIX)/share/audiofiler/sql/
	install -m 644 config/audiofiler.conf config/genres.conf config/crontab.example $(DESTDIR)$(PREFIX)/share/audiofiler/
	for f in audiofiler.conf genres.conf; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/$$f ] || install -m 644 config/$$f $(DESTDIR)$(SYSCONFDIR)/$$f; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/audiofiler/serve
	install -m 644 serve/assets/* $(DESTDIR)$(PREFIX)/share/audiofiler/serve/
# `make deb`: the Debian package, build/audiofiler_<version>_<arch>.deb (scripts/make-deb).
.PHONY: deb
deb: all
	scripts/make-deb
# ---- end deploy: install

# ---- libafaudio: the analysis library for use outside AudioFiler --------------------
# (this block: the library's build and install; the programs link build/libafaudio.a
# above and do not use the shared library)
# build/libafaudio.so.$(VERSION), soname libafaudio.so.<major>, made from position-
# independent copies of the analysis objects (build/pic/) plus lib/error.c, the one
# piece of infrastructure the analysis code uses (af_err); no database, config or
# HTTP code.  Exports only afaudio_* (analysis/include/afaudio.map).  Its header,
# build-gen/afaudio.h, is made from analysis/include/afaudio.h.in with the version.
# `make install` puts the .so, afaudio.h, afaudio.pc and the Python module under
# $(DESTDIR)$(PREFIX) (LIBDIR, INCLUDEDIR, PYTHONDIR).
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
# The Python module (python/afaudio): Debian's python3 looks in /usr/lib/python3/dist-packages;
# for /usr/local, give PYTHONDIR=/usr/local/lib/python3.X/dist-packages or set PYTHONPATH.
PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages
AFAUDIO_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
AFAUDIO_SONAME := libafaudio.so.$(AFAUDIO_MAJOR)
AFAUDIO_SO := build/libafaudio.so.$(VERSION)
AFAUDIO_PKGS := libavformat libavcodec libavutil libswresample fftw3 jansson
AFAUDIO_LIBS := $(shell $(PKG_CONFIG) --libs $(AFAUDIO_PKGS) 2>/dev/null) -lm -lpthread
AFAUDIO_PIC_OBJ := $(patsubst %.c,build/pic/%.o,$(AFAUDIO_SRC) lib/error.c)

.PHONY: afaudio install-afaudio
all: afaudio
afaudio: $(AFAUDIO_SO) build/$(AFAUDIO_SONAME) build/libafaudio.so

build-gen/afaudio.h: analysis/include/afaudio.h.in VERSION
	@mkdir -p $(@D)
	$(Q)sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@MAJOR@/$(AFAUDIO_MAJOR)/g' \
		-e 's/@MINOR@/$(word 2,$(subst ., ,$(VERSION)))/g' \
		-e 's/@PATCH@/$(word 3,$(subst ., ,$(VERSION)))/g' $< > $@.tmp && mv $@.tmp $@

build/pic/%.o: %.c | build-gen/migrations.c build-gen/afaudio.h check-packages
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $@')
	$(Q)$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -fPIC $(CFLAGS) -MMD -MP -c $< -o $@

$(AFAUDIO_SO): $(AFAUDIO_PIC_OBJ) analysis/include/afaudio.map
	@$(if $(Q),echo '  LINK    $@')
	$(Q)$(CC) -shared -Wl,-soname,$(AFAUDIO_SONAME) \
		-Wl,--version-script=analysis/include/afaudio.map -Wl,--no-undefined -Wl,--as-needed \
		$(AFAUDIO_PIC_OBJ) $(AFAUDIO_LIBS) $(LDFLAGS) -o $@

build/$(AFAUDIO_SONAME) build/libafaudio.so: $(AFAUDIO_SO)
	$(Q)ln -sf $(notdir $<) $@

install: install-afaudio
install-afaudio: afaudio build-gen/afaudio.h
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(AFAUDIO_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libafaudio.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(AFAUDIO_SONAME)
	ln -sf $(AFAUDIO_SONAME) $(DESTDIR)$(LIBDIR)/libafaudio.so
	install -m 644 build-gen/afaudio.h $(DESTDIR)$(INCLUDEDIR)/afaudio.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(AFAUDIO_PKGS)|' \
		analysis/include/afaudio.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/afaudio.pc
	install -d $(DESTDIR)$(PYTHONDIR)/afaudio
	install -m 644 python/afaudio/__init__.py $(DESTDIR)$(PYTHONDIR)/afaudio/
# ---- end of libafaudio ---------------------------------------------------------------

clean:
	rm -rf build build-asan build-gen

-include $(shell find build build-asan -name '*.d' 2>/dev/null)
