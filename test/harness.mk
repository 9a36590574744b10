# SPDX-License-Identifier: GPL-2.0
#
# The harness's own guest programs: the per-guest test driver, the TCP
# baseline and (for the harness self-test only) a module that warns.

TOP ?= .
_h_p := $(if $(filter .,$(TOP)),,$(TOP)/)
HARNESS_BIN := $(_h_p)build/guest/bin

GUEST_BINS += $(HARNESS_BIN)/guest-tests $(HARNESS_BIN)/tcpxfer

$(HARNESS_BIN)/tcpxfer: $(_h_p)test/tcpxfer.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

$(HARNESS_BIN)/guest-tests: $(_h_p)test/guest-tests
	@mkdir -p $(dir $@)
	install -m 755 $< $@

build/warn/afx_warn.ko: $(_h_p)test/warn/warn.c $(_h_p)test/warn/Kbuild
	@mkdir -p build/warn
	cp $^ build/warn/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/build/warn modules
