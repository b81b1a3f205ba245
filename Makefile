# cheval build.
#
#   make            build ./cheval (installs missing Debian packages first)
#   make test       build and run every Check test under tests/
#   make asan       the same tests under AddressSanitizer and UBSan
#   make demo       evaluate the embedded demo model on the bundled samples
#   make browser-test  render the HTML reports in headless Chromium (needs chromium)
#
# BUILD selects the object folder, so that two builds in one checkout do not
# collide (make BUILD=build-dev test). WERROR=1 turns warnings into errors;
# CI sets it.

BUILD   ?= build
CC      ?= cc
PKGS    := openblas libcjson zlib check libpcre2-8 libutf8proc nettle

CFLAGS_BASE := -std=c11 -O2 -Wall -Wextra -Wno-format-truncation -Werror=implicit-function-declaration -D_GNU_SOURCE -g
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif

# Resolving the packages runs install-deps.sh first when one is missing, so a
# fresh machine needs only `make`.
DEPS_OK := $(shell pkg-config --exists $(PKGS) && echo yes)
ifneq ($(DEPS_OK),yes)
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(info cheval: some build dependencies are missing; running scripts/install-deps.sh)
DEPS_RC := $(shell sh scripts/install-deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error scripts/install-deps.sh failed; run it as root or install the packages it lists)
endif
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs openblas libcjson zlib libpcre2-8 libutf8proc nettle 2>/dev/null) -lm -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CPPFLAGS += -Isrc -Itasks -Itests
CFLAGS   ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

# Every .c under src/ and tasks/ goes into libcheval.a, except the CLI entry
# point. New modules need no Makefile change.
LIB_SRC  := $(sort $(wildcard src/*/*.c tasks/*.c))
LIB_SRC  := $(filter-out src/cli/main.c,$(LIB_SRC))
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))

# The built-in task specs (tasks/*.json) are compiled in as C strings, so
# cheval finds them from any working directory.
TASK_SPECS := $(sort $(wildcard tasks/*.json))
LIB_OBJ  += $(BUILD)/gen/task_specs.o
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_SUPPORT := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SUPPORT))

GIT_HASH := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

.PHONY: all test asan demo clean deps browser-test FORCE
.SECONDARY:

all: cheval

FORCE:

# Replace ./cheval by rename, so a run still using the old binary goes on.
cheval: $(BUILD)/cheval
	cp $< $@.new && mv -f $@.new $@

$(BUILD)/cheval: $(BUILD)/src/cli/main.o $(BUILD)/libcheval.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/libcheval.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/src/cli/version.o: FORCE
$(BUILD)/src/cli/version.o: EXTRA_DEFS = -DCHEVAL_GIT_HASH='"$(GIT_HASH)"' -DCHEVAL_VERSION='"$(VERSION)"'

$(BUILD)/gen/task_specs.c: $(TASK_SPECS) tasks/embed-specs.sh
	@mkdir -p $(dir $@)
	sh tasks/embed-specs.sh $(TASK_SPECS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/task_specs.o: $(BUILD)/gen/task_specs.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(EXTRA_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT_OBJ) $(BUILD)/libcheval.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/libcheval.a $(CHECK_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS)

# tools/make-demo-model writes the random-weight model that `make demo`
# evaluates; the tests run it to check that its output never changes.
DEMO_TOOL := $(BUILD)/tools/make-demo-model

$(DEMO_TOOL): tools/make-demo-model.c $(BUILD)/src/util/fileio.o $(BUILD)/src/util/error.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(ALL_LDFLAGS)

# Each test binary runs from the repository root, so fixtures are found at
# tests/fixtures/. CK_FORK=no keeps sanitizer reports in the main process.
test: $(BUILD)/cheval $(TEST_BIN) $(DEMO_TOOL)
	@CHEVAL_BIN=$(BUILD)/cheval CHEVAL_DEMO_TOOL=$(DEMO_TOOL) sh tests/run-tests.sh $(TEST_BIN)

asan:
	$(MAKE) BUILD=build-asan \
	  EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" test

demo: cheval $(DEMO_TOOL)
	@CHEVAL_DEMO_TOOL=$(DEMO_TOOL) sh scripts/demo.sh

# Not part of `make test`: it needs Debian's chromium package.
browser-test: $(BUILD)/cheval
	@CHEVAL_BIN=$(BUILD)/cheval sh tests/browser/check-report.sh $(BUILD)/browser

deps:
	sh scripts/install-deps.sh

clean:
	rm -rf build build-* cheval

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cli/main.d
