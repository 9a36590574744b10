# SPDX-License-Identifier: GPL-2.0
#
# afx_test: the in-guest AF_XEN test suite (test/afx_test*.c).
#
# Included by the top-level Makefile (-include test/suite.mk), or used on
# its own from the top of the tree:
#
#   make -f test/suite.mk            builds build/guest/bin/afx_test
#   make -f test/suite.mk afx_test-selftest
#                                    runs server and client on this host
#                                    over 127.0.0.1: AF_XEN is missing here,
#                                    so every case must fail -- quickly,
#                                    with a reason, without hanging
#
# In the guests:  afx_test --mode server|client --peer-ip $PEER_IP
#                          --peer-domid $PEER_DOMID   (env MY_DOMID too)
#                 afx_test --loopback                  (one guest only)

TOP ?= .
_afx_standalone := $(filter %suite.mk,$(firstword $(MAKEFILE_LIST)))
_afx_saved_goal := $(.DEFAULT_GOAL)
_afx_p := $(if $(filter .,$(TOP)),,$(TOP)/)

AFX_TEST_CC ?= gcc
AFX_TEST_CFLAGS ?= -static -O2 -Wall -Wextra -Werror
AFX_TEST_SRCS := $(addprefix $(_afx_p)test/,afx_test.c afx_test_util.c \
	afx_test_cases.c afx_test_attack.c afx_test_poll.c afx_test_seq.c \
	afx_test_chan.c tclock.c)
AFX_TEST_HDRS := $(_afx_p)test/afx_test.h \
	$(_afx_p)include/uapi/linux/af_xen.h
AFX_TEST_BIN := $(_afx_p)build/guest/bin/afx_test

GUEST_BINS += $(AFX_TEST_BIN)

# xattack: an outside attacker on the raw Xen devices against the real
# module (test/xattack*.c; phase "attack" of test/guest-tests).
XATTACK_SRCS := $(addprefix $(_afx_p)test/,xattack.c xattack_xen.c \
	xattack_attacker.c xattack_victim.c xattack_vutil.c xattack_chan.c \
	tclock.c)
XATTACK_HDRS := $(addprefix $(_afx_p)test/,xattack.h xattack_victim.h) \
	$(_afx_p)include/uapi/linux/af_xen.h
XATTACK_BIN := $(_afx_p)build/guest/bin/xattack

GUEST_BINS += $(XATTACK_BIN)

$(XATTACK_BIN): $(XATTACK_SRCS) $(XATTACK_HDRS) $(_afx_p)test/suite.mk
	@mkdir -p $(dir $@)
	$(AFX_TEST_CC) $(AFX_TEST_CFLAGS) -I $(_afx_p)include/uapi \
		-o $@ $(XATTACK_SRCS) -pthread

$(AFX_TEST_BIN): $(AFX_TEST_SRCS) $(AFX_TEST_HDRS) $(_afx_p)test/suite.mk
	@mkdir -p $(dir $@)
	$(AFX_TEST_CC) $(AFX_TEST_CFLAGS) -I $(_afx_p)include/uapi \
		-o $@ $(AFX_TEST_SRCS)

.PHONY: afx_test afx_test-selftest afx_test-clean
afx_test: $(AFX_TEST_BIN)

# Both roles on this host, control channel over 127.0.0.1:12340.  The
# server pretends to hang in its last case, which must be reported as a
# timeout (after 60 s x 0.2).
afx_test-selftest: $(AFX_TEST_BIN)
	@rm -f $(_afx_p)build/afx_selftest.*
	$(AFX_TEST_BIN) --mode server --peer-ip 127.0.0.1 --peer-domid 2 \
		--my-domid 1 --control-port 12340 --timeout-scale 0.2 \
		--selftest-hang no_socket_leak \
		>$(_afx_p)build/afx_selftest.server 2>&1 & \
	$(AFX_TEST_BIN) --mode client --peer-ip 127.0.0.1 --peer-domid 1 \
		--my-domid 2 --control-port 12340 --timeout-scale 0.2 \
		>$(_afx_p)build/afx_selftest.client 2>&1; \
	rc=$$?; wait $$!; src=$$?; cat $(_afx_p)build/afx_selftest.client; \
	n=$$(grep -c '^not ok - ' $(_afx_p)build/afx_selftest.client); \
	m=$$($(AFX_TEST_BIN) --list | wc -l); \
	echo "selftest: exit client $$rc server $$src, $$n of $$m cases not ok"; \
	test "$$rc" = 1 && test "$$src" = 1 && test "$$n" = "$$m" && \
	grep -q '^not ok - no_socket_leak # server guest: timeout' \
		$(_afx_p)build/afx_selftest.client

# afx_test's own logic against a crude AF_UNIX stand-in for AF_XEN
# (test/afx_test_emu.c, LD_PRELOAD into a dynamic build).  Cases that need
# real AF_XEN features (ring sizes, domid filters, statistics, backlog
# refusal) fail there; the rest must pass.
AFX_EMU_DIR := $(_afx_p)build/host
$(AFX_EMU_DIR)/afx_test: $(AFX_TEST_SRCS) $(AFX_TEST_HDRS)
	@mkdir -p $(dir $@)
	$(AFX_TEST_CC) -O2 -Wall -Wextra -Werror -I $(_afx_p)include/uapi \
		-o $@ $(AFX_TEST_SRCS)
$(AFX_EMU_DIR)/afx_emu.so: $(_afx_p)test/afx_test_emu.c $(AFX_TEST_HDRS)
	@mkdir -p $(dir $@)
	$(AFX_TEST_CC) -O2 -Wall -Wextra -Werror -I $(_afx_p)include/uapi \
		-shared -fPIC -o $@ $< -ldl

.PHONY: afx_test-emu
afx_test-emu: $(AFX_EMU_DIR)/afx_test $(AFX_EMU_DIR)/afx_emu.so
	cd $(AFX_EMU_DIR) && \
	LD_PRELOAD=$$PWD/afx_emu.so MY_DOMID=1 PEER_DOMID=2 ./afx_test \
		--mode server --peer-ip 127.0.0.1 --peer-domid 2 \
		--control-port 12341 --skip backlog_full >emu.server 2>&1 & \
	cd $(AFX_EMU_DIR) && \
	LD_PRELOAD=$$PWD/afx_emu.so MY_DOMID=2 PEER_DOMID=1 ./afx_test \
		--mode client --peer-ip 127.0.0.1 --peer-domid 1 \
		--control-port 12341 --skip backlog_full | tee emu.client; wait

afx_test-clean:
	rm -f $(AFX_TEST_BIN) $(AFX_EMU_DIR)/afx_test $(AFX_EMU_DIR)/afx_emu.so

ifneq ($(_afx_standalone),)
.DEFAULT_GOAL := afx_test
else
.DEFAULT_GOAL := $(_afx_saved_goal)
endif
