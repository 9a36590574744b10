# SPDX-License-Identifier: GPL-2.0
#
# Userspace tools shipped with af_xen, built as static binaries so that a
# bare guest can run them.  Included by the top-level Makefile.

TOP ?= .
_tools_p := $(if $(filter .,$(TOP)),,$(TOP)/)
TOOLS_CFLAGS ?= -static -O2 -Wall -Wextra -Werror
TOOLS_BIN := $(_tools_p)build/guest/bin

GUEST_BINS += $(TOOLS_BIN)/af_xen-setup $(TOOLS_BIN)/af_xen-load

$(TOOLS_BIN)/af_xen-setup: $(_tools_p)tools/af_xen-setup.c
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -o $@ $<

$(TOOLS_BIN)/af_xen-load: $(_tools_p)tools/af_xen-load
	@mkdir -p $(dir $@)
	install -m 755 $< $@
