# Oefenkamer - plain Makefile. Honours CFLAGS, CPPFLAGS, LDFLAGS, CC.
#   make            build/oefenkamer
#   make check      the fast loop: unit tests and the command line (no root,
#                   no Synapse); check-tests is the old name, kept
#   make test       install missing Debian packages, build, run every test
#   make asan       make check under ASan+UBSan (build/asan/)
#   make asan-integration  the Synapse tests against the ASan+UBSan build
#   make valgrind   the same tests under valgrind
#   make fuzz       short libFuzzer runs (clang), seeded from scripts/
#   make play       rehearse a scenario in this terminal
#   make bench      print the engine figures, then the Matrix figures
#                   (bench-matrix, bench-scale, bench-e2ee)
#   make eval       how well the personas understand the held-out corpus
#   make eval-train the same on the training split
#   make demo       Synapse, the bot and demo accounts on this machine
#                   (make demo PORT=18018 for another port)

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wno-unused-parameter
DEFS = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
PKGS = jansson sqlite3 libcurl olm
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lsqlite3 -lcurl -lolm)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

B ?= build
ALL_CFLAGS = $(WARN) $(DEFS) $(PKG_CFLAGS) $(CPPFLAGS) -pthread $(CFLAGS)
LIBS = $(PKG_LIBS) -lm -pthread

# bot/ has one folder per layer (README "Layout"); every folder is on the
# include path, so a header is included by its name alone.
BOT_DIRS := core record matrix app cli
INCS = $(BOT_DIRS:%=-Ibot/%)
SRCS := $(foreach d,$(BOT_DIRS),$(wildcard bot/$(d)/*.c))
LIB_SRCS := $(filter-out bot/cli/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:bot/%.c=$(B)/obj/%.o)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all test check check-tests deps asan asan-integration valgrind fuzz \
	play bench clean integration demo demo-stop bench-matrix bench-e2ee \
	bench-scale \
	eval eval-train
all: $(B)/oefenkamer

# Each object and test program depends on the headers it includes, as the
# compiler lists them (-MMD -MP writes a .d file beside it); a new header
# change rebuilds only what includes it. An object without its .d file
# (a build tree from before) is rebuilt once to get one.
DEPFLAGS = -MMD -MP
$(B)/obj/%.o: bot/%.c $(B)/obj/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCS) $(DEPFLAGS) -c -o $@ $<

$(B)/oefenkamer: $(B)/obj/cli/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/tests/%.d $(LIB_OBJS) | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(INCS) -Itests/unit -Itests $(DEPFLAGS) -MF $@.d -o $@ $< $(LIB_OBJS) \
	  $(LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

# Named, so that make does not take them for intermediate files whose
# absence changes nothing.
DEPFILES := $(SRCS:bot/%.c=$(B)/obj/%.d) $(TESTS:%=%.d)
$(DEPFILES): ;
-include $(wildcard $(DEPFILES))

$(B)/tests:
	mkdir -p $@

deps:
	@sh tools/deps.sh

# The fast loop: unit tests per module, then the shipped scripts and the
# command line end to end; no root, no Synapse. check-tests is the name
# CI and older scripts use.
check-tests: check
check: $(B)/oefenkamer $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; \
	  OEF_ROOT=$(CURDIR) $(RUNNER) $$t; done
	@echo "== scripts and command line"
	@OEF_BIN="$(RUNNER) $(CURDIR)/$(B)/oefenkamer" OEF_ROOT=$(CURDIR) sh tests/cli/cli.sh

test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory integration

# The bot on a real Synapse on loopback (tools/synapse.sh builds
# and caches a Debian sid chroot with matrix-synapse the first time);
# test_e2ee.py drives it with Debian's matrix-nio, an independent E2EE
# client (so Debian's python, whatever python3 is first on PATH). First,
# without a homeserver, nio decrypts the attachments test_crypto encrypts.
integration: $(B)/oefenkamer $(B)/tests/test_crypto
	@/usr/bin/python3 tests/integration/attach_nio.py $(B)/tests/test_crypto
	@bash tools/synapse.sh prepare
	@sh tests/integration/smoke.sh
	@B=$(B) python3 tests/integration/demo_test.py
	@OEF_BIN="$(CURDIR)/$(B)/oefenkamer" python3 tests/integration/test_bot.py
	@OEF_BIN="$(CURDIR)/$(B)/oefenkamer" /usr/bin/python3 tests/integration/test_e2ee.py

ASAN = B=build/asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined"
# asan is the fast loop under the sanitizers; asan-integration the Synapse
# tests against the same build (CI runs both).
asan: deps
	@$(MAKE) --no-print-directory $(ASAN) check

asan-integration: deps
	@$(MAKE) --no-print-directory $(ASAN) integration

valgrind: deps
	@$(MAKE) --no-print-directory B=build/vg CFLAGS="-O1 -g" \
	  RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
	  check

FUZZ_SECONDS ?= 60
fuzz: deps
	@sh tests/fuzz/fuzz.sh $(FUZZ_SECONDS)

SCENARIO ?=
play: $(B)/oefenkamer
	@$(B)/oefenkamer play $(SCENARIO)

# The labelled corpus (tests/corpus/README.md): eval the held-out test
# split; eval-train the split the matcher learns from and scripts are
# tuned on.
EVAL_ARGS ?=
eval: $(B)/oefenkamer
	@set -- tests/corpus/test/*.txt; [ -e "$$1" ] || \
	  { echo "no tests/corpus/test/*.txt yet"; exit 1; }; \
	  $(B)/oefenkamer eval $(EVAL_ARGS) "$$@"

eval-train: $(B)/oefenkamer
	@set -- tests/corpus/train/*.txt; [ -e "$$1" ] || \
	  { echo "no tests/corpus/train/*.txt yet"; exit 1; }; \
	  $(B)/oefenkamer eval $(EVAL_ARGS) "$$@"

bench: $(B)/oefenkamer
	@$(B)/oefenkamer bench engine
	@$(MAKE) --no-print-directory bench-matrix
	@$(MAKE) --no-print-directory bench-scale
	@$(MAKE) --no-print-directory bench-e2ee

# Our bot beside a matrix-nio echo bot on a local Synapse (root; installs
# python3-matrix-nio when missing). BENCH_ARGS go to tools/bench/bench.py.
bench-matrix: $(B)/oefenkamer
	@OEF_BIN=$(CURDIR)/$(B)/oefenkamer sh tools/bench/bench.sh $(BENCH_ARGS)

# Per-room cost: rooms added in steps to one bot (200, 1,000, 5,000), the
# peer up to 1,000, in one run. The rooms are made once and kept in
# $(B)/bench-rooms (the first run makes them: slow, see README); every
# run invites the bots into them on a Synapse with its database on
# tmpfs. SCALE_ARGS replace the steps.
SCALE_ARGS ?= --scale 200,1000,5000 --scale-peer 1000
bench-scale: $(B)/oefenkamer
	@OEF_BIN=$(CURDIR)/$(B)/oefenkamer sh tools/bench/bench.sh \
	  --skip-latency --skip-load --fast-synapse \
	  --room-cache $(CURDIR)/$(B)/bench-rooms $(SCALE_ARGS) $(BENCH_ARGS)

# The cost of encryption: `oefenkamer bench crypto`, then the reply
# latency in an encrypted room next to a plain one (one bot, one nio
# trainee). E2EE_BENCH_ARGS go to tools/bench/bench_e2ee.py.
bench-e2ee: deps $(B)/oefenkamer
	@OEF_BIN=$(CURDIR)/$(B)/oefenkamer /usr/bin/python3 \
	  tools/bench/bench_e2ee.py $(E2EE_BENCH_ARGS)

# make demo PORT=N puts the homeserver on 127.0.0.1:N (default 18008;
# OEF_DEMO_PORT in the environment works too). A busy port is refused
# with a free one to try.
demo: deps $(B)/oefenkamer
	@OEF_BIN=$(CURDIR)/$(B)/oefenkamer sh tools/demo.sh start "$(PORT)"

demo-stop:
	@sh tools/demo.sh stop

clean:
	-@bash tools/synapse.sh stop-all >/dev/null 2>&1
	rm -rf build
