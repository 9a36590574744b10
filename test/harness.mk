# SPDX-License-Identifier: GPL-2.0
#
# The harness's own guest programs: the per-guest test driver, xfer (the
# TCP baseline and make demo's transfers) and (for the harness self-test only) a module that warns.

TOP ?= .
_h_p := $(if $(filter .,$(TOP)),,$(TOP)/)
HARNESS_BIN := $(_h_p)build/guest/bin

GUEST_BINS += $(HARNESS_BIN)/guest-tests $(HARNESS_BIN)/xfer

$(HARNESS_BIN)/xfer: $(_h_p)test/xfer.c $(_h_p)include/uapi/linux/af_xen.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -I $(_h_p)include/uapi -o $@ $<

$(HARNESS_BIN)/guest-tests: $(_h_p)test/guest-tests
	@mkdir -p $(dir $@)
	install -m 755 $< $@

build/warn/afx_warn.ko: $(_h_p)test/warn/warn.c $(_h_p)test/warn/Kbuild
	@mkdir -p build/warn
	cp $^ build/warn/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/build/warn modules

GUEST_BINS += $(HARNESS_BIN)/xbench
$(HARNESS_BIN)/xbench: $(addprefix $(_h_p)test/,xbench.c xbench_conn.c xbench_path.c xbench.h) \
		$(_h_p)include/uapi/linux/af_xen.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -I $(_h_p)include/uapi -o $@ $(filter %.c,$^)

GUEST_BINS += $(HARNESS_BIN)/xmcast
$(HARNESS_BIN)/xmcast: $(_h_p)test/xmcast.c $(_h_p)include/uapi/linux/af_xen.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -I $(_h_p)include/uapi -o $@ $(filter %.c,$^)

GUEST_BINS += $(HARNESS_BIN)/reliab
$(HARNESS_BIN)/reliab: $(addprefix $(_h_p)test/,reliab.c reliab_death.c reliab_limits.c reliab.h) \
		$(_h_p)include/uapi/linux/af_xen.h
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -pthread -I $(_h_p)include/uapi -o $@ $(filter %.c,$^)
