# SPDX-License-Identifier: GPL-2.0
#
# Userspace tests of ring.c: unit tests, a two-thread stress test (also
# under ThreadSanitizer) and a libFuzzer target playing a hostile peer;
# of parse.c (the strict xenstore parsers): table-driven unit tests and a
# libFuzzer target feeding them arbitrary bytes.
#
# Included by the top-level Makefile (-include test/unit.mk), or used on
# its own from the top of the tree:
#
#   make -f test/unit.mk unit-check   unit tests + 1 GiB stress, TSan
#                                     stress, 30 s fuzz smoke; then the
#                                     parse unit tests and a 10 s parse
#                                     fuzz smoke; prints one "ok - ring:
#                                     ..." / "ok - parse: ..." or "not ok
#                                     - ...: ... # why" line per test and
#                                     exits non-zero if any failed
#   make -f test/unit.mk fuzz         fuzz ring.c for FUZZ_SECONDS (600)
#   make -f test/unit.mk fuzz-parse   fuzz parse.c for FUZZ_SECONDS
#   make -f test/unit.mk unit-clean
#
# Knobs: RING_STRESS_BYTES (1G), TSAN_STRESS_BYTES (256M),
# FUZZ_SMOKE_SECONDS (30), PARSE_FUZZ_SMOKE_SECONDS (10), FUZZ_SECONDS
# (600).  Everything is built under build/unit/; the fuzz corpora are
# build/unit/fuzz-corpus (ring) and build/unit/parse-fuzz-corpus, crashes
# land in build/unit/fuzz-artifacts/ (parse's named parse-*).

TOP ?= .
_unit_standalone := $(filter %unit.mk,$(firstword $(MAKEFILE_LIST)))
_unit_saved_goal := $(.DEFAULT_GOAL)
_unit_p := $(if $(filter .,$(TOP)),,$(TOP)/)

UNIT_DIR := $(_unit_p)build/unit
UNIT_CC ?= gcc
UNIT_CLANG ?= clang
UNIT_CFLAGS ?= -O2 -g -Wall -Wextra -Werror
UNIT_CLANG_CFLAGS ?= -O1 -g -Wall -Wextra -Werror
UNIT_INC := -I $(_unit_p)test -I $(_unit_p).

RING_STRESS_BYTES ?= 1G
TSAN_STRESS_BYTES ?= 256M
FUZZ_SMOKE_SECONDS ?= 30
PARSE_FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SECONDS ?= 600

RING_SRC := $(_unit_p)ring.c
RING_DEPS := $(RING_SRC) $(_unit_p)ring.h $(_unit_p)test/ring_user.h \
	$(_unit_p)test/unit_check.h \
	$(_unit_p)test/unit.mk
RING_TEST := $(UNIT_DIR)/ring_test
RING_TEST_TSAN := $(UNIT_DIR)/ring_test_tsan
RING_FUZZ := $(UNIT_DIR)/ring_fuzz
FUZZ_CORPUS := $(UNIT_DIR)/fuzz-corpus
FUZZ_ARTIFACTS := $(UNIT_DIR)/fuzz-artifacts

PARSE_SRC := $(_unit_p)parse.c
PARSE_DEPS := $(PARSE_SRC) $(_unit_p)parse.h $(_unit_p)test/parse_user.h \
	$(_unit_p)test/parse_print.h \
	$(_unit_p)test/unit_check.h \
	$(_unit_p)test/unit.mk
PARSE_TEST := $(UNIT_DIR)/parse_test
PARSE_FUZZ := $(UNIT_DIR)/parse_fuzz
PARSE_FUZZ_CORPUS := $(UNIT_DIR)/parse-fuzz-corpus

UNIT_CHECKS += unit-check

$(RING_TEST): $(_unit_p)test/ring_test.c $(RING_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_INC) -o $@ $(_unit_p)test/ring_test.c \
		$(RING_SRC) -lpthread

$(RING_TEST_TSAN): $(_unit_p)test/ring_test.c $(RING_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CLANG) $(UNIT_CLANG_CFLAGS) -fsanitize=thread $(UNIT_INC) \
		-o $@ $(_unit_p)test/ring_test.c $(RING_SRC) -lpthread

$(RING_FUZZ): $(_unit_p)test/ring_fuzz.c $(RING_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CLANG) $(UNIT_CLANG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(UNIT_INC) \
		-o $@ $(_unit_p)test/ring_fuzz.c $(RING_SRC)

# Record framing (SOCK_SEQPACKET groundwork), under ASan and UBSan, and
# a libFuzzer target in which the input plays a peer lying in headers.
REC_TEST := $(UNIT_DIR)/rec_test
REC_FUZZ := $(UNIT_DIR)/rec_fuzz
REC_FUZZ_CORPUS := $(UNIT_DIR)/rec-fuzz-corpus
REC_FUZZ_SMOKE_SECONDS ?= 10
$(REC_FUZZ): $(_unit_p)test/rec_fuzz.c $(RING_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CLANG) $(UNIT_CLANG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(UNIT_INC) \
		-o $@ $(_unit_p)test/rec_fuzz.c $(RING_SRC)

$(REC_TEST): $(_unit_p)test/rec_test.c $(RING_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CLANG) $(UNIT_CLANG_CFLAGS) -fsanitize=address,undefined \
		-fno-sanitize-recover=undefined $(UNIT_INC) -o $@ \
		$(_unit_p)test/rec_test.c $(RING_SRC)

$(PARSE_TEST): $(_unit_p)test/parse_test.c $(PARSE_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_INC) -o $@ $(_unit_p)test/parse_test.c \
		$(PARSE_SRC)

$(PARSE_FUZZ): $(_unit_p)test/parse_fuzz.c $(PARSE_DEPS)
	@mkdir -p $(dir $@)
	$(UNIT_CLANG) $(UNIT_CLANG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(UNIT_INC) \
		-o $@ $(_unit_p)test/parse_fuzz.c $(PARSE_SRC)

.PHONY: unit-check unit-build fuzz fuzz-parse fuzz-rec unit-clean
unit-build: $(RING_TEST) $(RING_TEST_TSAN) $(RING_FUZZ) $(PARSE_TEST) \
	$(PARSE_FUZZ) $(REC_TEST) $(REC_FUZZ)

# Per fuzz target T (ring, parse): binary, corpus, the variable naming
# the directory it writes its seeds into, and the crash file prefix.
_unit_fuzz_ring := $(RING_FUZZ) $(FUZZ_CORPUS) RING_FUZZ_SEED_DIR \
	$(FUZZ_ARTIFACTS)/
_unit_fuzz_parse := $(PARSE_FUZZ) $(PARSE_FUZZ_CORPUS) PARSE_FUZZ_SEED_DIR \
	$(FUZZ_ARTIFACTS)/parse-
_unit_fuzz_rec := $(REC_FUZZ) $(REC_FUZZ_CORPUS) REC_FUZZ_SEED_DIR \
	$(FUZZ_ARTIFACTS)/rec-
_unit_fz = $(word $(2),$(_unit_fuzz_$(1)))

# _unit_run_fuzz SECONDS,NAME,LOG[,T]: fuzz target T (default ring) from
# its corpus (seeded by the target itself), print the executions and a
# result line ("ok - T: NAME"); status 1 on a crash.
_unit_run_fuzz = $(call _unit_run_fuzz_t,$(1),$(2),$(3),$(or $(4),ring))
define _unit_run_fuzz_t
	mkdir -p $(call _unit_fz,$(4),2) $(FUZZ_ARTIFACTS); \
	log=$(UNIT_DIR)/$(3).log; \
	t0=$$(date +%s); \
	$(call _unit_fz,$(4),3)=$(call _unit_fz,$(4),2) \
		$(call _unit_fz,$(4),1) -max_total_time=$(1) \
		-print_final_stats=1 -artifact_prefix=$(call _unit_fz,$(4),4) \
		$(call _unit_fz,$(4),2) >$$log 2>&1; rc=$$?; \
	secs=$$(( $$(date +%s) - t0 )); \
	[ "$$secs" -gt 0 ] || secs=1; \
	runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -1); \
	[ -n "$$runs" ] || runs=$$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $$log); \
	echo "# $(4): $(2): $${runs:-?} executions in $$secs s ($$(( $${runs:-0} / secs ))/s), corpus $$(ls $(call _unit_fz,$(4),2) | wc -l) inputs, log $$log"; \
	if [ $$rc -eq 0 ]; then \
		echo "ok - $(4): $(2)"; \
	else \
		why=$$(grep -m1 -E '$(4)_fuzz: line|ERROR: |runtime error|SUMMARY' $$log | tr -d '\r' | cut -c1-200); \
		art=$$(sed -n 's/.*Test unit written to \(.*\)/\1/p' $$log | head -1); \
		echo "not ok - $(4): $(2) # exit $$rc: $${why:-see $$log}$${art:+, reproducer $$art}"; \
	fi; \
	[ $$rc -eq 0 ]
endef

# _unit_run_tests T,BIN: run the unit test binary BIN (prefix "T: "),
# check that it reported every test it lists; status 1 on any failure.
define _unit_run_tests
	out=$(UNIT_DIR)/$(1)_test.out; \
	$(2) >$$out 2>&1; rc=$$?; \
	cat $$out; \
	want=$$($(2) --list | wc -l); \
	got=$$(grep -c -E '^(not )?ok - $(1): ' $$out); \
	if [ $$got -ne $$want ]; then \
		echo "not ok - $(1): $(1)_test ran all tests # $$got of $$want reported, exit $$rc"; \
	elif [ $$rc -ne 0 ] && ! grep -q '^not ok' $$out; then \
		echo "not ok - $(1): $(1)_test exit status # $$rc"; \
	fi; \
	[ $$rc -eq 0 ] && [ $$got -eq $$want ]
endef

unit-check: unit-build
	@fail=0; \
	{ $(call _unit_run_tests,ring,RING_STRESS_BYTES=$(RING_STRESS_BYTES) $(RING_TEST)); } || fail=1; \
	out=$(UNIT_DIR)/tsan.out; log=$(UNIT_DIR)/tsan.log; \
	RING_STRESS_BYTES=$(TSAN_STRESS_BYTES) \
		TSAN_OPTIONS="halt_on_error=0 exitcode=66 log_path=$(abspath $(UNIT_DIR))/tsan.log" \
		$(RING_TEST_TSAN) --only stress --tag "tsan " >$$out 2>&1; rc=$$?; \
	cat $$out; \
	races=$$(cat $$log.* 2>/dev/null | grep -c 'WARNING: ThreadSanitizer'); \
	cat $$log.* >$$log 2>/dev/null; rm -f $$log.*; \
	if [ $$rc -ne 0 ]; then fail=1; fi; \
	if [ $$races -eq 0 ] && [ $$rc -ne 66 ]; then \
		echo "ok - ring: tsan stress free of data races"; \
	else \
		echo "not ok - ring: tsan stress free of data races # $$races ThreadSanitizer reports, exit $$rc, see $$log"; \
		fail=1; \
	fi; \
	if ! grep -q '^ok - ring: tsan stress$$' $$out && \
	   ! grep -q '^not ok - ring: tsan stress ' $$out; then \
		echo "not ok - ring: tsan stress # no result, exit $$rc"; \
	fi; \
	{ $(call _unit_run_fuzz,$(FUZZ_SMOKE_SECONDS),fuzz smoke,fuzz-smoke); } || fail=1; \
	{ $(call _unit_run_tests,rec,$(REC_TEST)); } || fail=1; \
	{ $(call _unit_run_fuzz,$(REC_FUZZ_SMOKE_SECONDS),fuzz smoke,rec-fuzz-smoke,rec); } || fail=1; \
	{ $(call _unit_run_tests,parse,$(PARSE_TEST)); } || fail=1; \
	{ $(call _unit_run_fuzz,$(PARSE_FUZZ_SMOKE_SECONDS),fuzz smoke,parse-fuzz-smoke,parse); } || fail=1; \
	exit $$fail

fuzz: $(RING_FUZZ)
	@$(call _unit_run_fuzz,$(FUZZ_SECONDS),fuzz $(FUZZ_SECONDS) s,fuzz)

fuzz-rec: $(REC_FUZZ)
	@$(call _unit_run_fuzz,$(FUZZ_SECONDS),fuzz $(FUZZ_SECONDS) s,rec-fuzz,rec)

fuzz-parse: $(PARSE_FUZZ)
	@$(call _unit_run_fuzz,$(FUZZ_SECONDS),fuzz $(FUZZ_SECONDS) s,parse-fuzz,parse)

unit-clean:
	rm -f $(RING_TEST) $(RING_TEST_TSAN) $(RING_FUZZ) $(PARSE_TEST) \
		$(PARSE_FUZZ) $(REC_TEST) $(REC_FUZZ) $(UNIT_DIR)/*.out $(UNIT_DIR)/*.log

ifneq ($(_unit_standalone),)
.DEFAULT_GOAL := unit-check
else
.DEFAULT_GOAL := $(_unit_saved_goal)
endif
