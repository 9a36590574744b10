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

# xsock: nc-like pipe, command runner, bench and ls for AF_XEN.
GUEST_BINS += $(TOOLS_BIN)/xsock
XSOCK_SRCS := $(addprefix $(_tools_p)tools/,xsock.c xsock_records.c)
$(TOOLS_BIN)/xsock: $(XSOCK_SRCS) $(_tools_p)tools/xsock.h \
		$(_tools_p)include/uapi/linux/af_xen.h
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -I $(_tools_p)include/uapi -o $@ $(XSOCK_SRCS)

# The LD_PRELOAD shim has to be a shared library: it rides on the
# program's own libc.  Guests get it in /opt/af_xen/lib.
PRELOAD_LIB := $(_tools_p)build/guest/lib/libaf_xen_preload.so
GUEST_BINS += $(PRELOAD_LIB)
$(PRELOAD_LIB): $(_tools_p)tools/af_xen_preload.c $(_tools_p)include/uapi/linux/af_xen.h
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -I $(_tools_p)include/uapi \
		-o $@ $< -ldl -pthread

# Host-side checks of both (make check): what they do without AF_XEN.
UNIT_CHECKS += tools-host-check
.PHONY: tools-host-check
tools-host-check: $(TOOLS_BIN)/xsock $(PRELOAD_LIB)
	@$(_tools_p)test/tools-host $(TOOLS_BIN)/xsock $(PRELOAD_LIB)
