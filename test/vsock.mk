# SPDX-License-Identifier: GPL-2.0
#
# Linux's own vsock tests (tools/testing/vsock: vsock_test and
# vsock_diag_test), which judge af_xen_vsock's semantics.  Taken from
# Debian's linux-source package of the guest kernel (scripts/setup-deps
# fetches it), built statically into build/guest/bin, never committed.
# Included by the top-level Makefile.

TOP ?= .
_vt_p := $(if $(filter .,$(TOP)),,$(TOP)/)
VSOCK_TEST_SRC_TAR := $(_vt_p)build/debs/root/usr/src/linux-source-6.1.tar.xz
VSOCK_TEST_DIR := $(_vt_p)build/vsock-test
VSOCK_TEST_BINS := $(_vt_p)build/guest/bin/vsock_test \
	$(_vt_p)build/guest/bin/vsock_diag_test
GUEST_BINS += $(VSOCK_TEST_BINS)

VSOCK_TEST_CFLAGS := -static -O2 -Wall -Werror -Wno-pointer-sign \
	-fno-strict-overflow -fno-strict-aliasing -fno-common -D_GNU_SOURCE

$(VSOCK_TEST_DIR)/.extracted: $(VSOCK_TEST_SRC_TAR)
	@rm -rf $(VSOCK_TEST_DIR) && mkdir -p $(VSOCK_TEST_DIR)
	tar -xJf $< -C $(VSOCK_TEST_DIR) --strip-components=1 \
		linux-source-6.1/tools/testing/vsock linux-source-6.1/tools/include
	@touch $@

$(_vt_p)build/guest/bin/vsock_%: $(VSOCK_TEST_DIR)/.extracted
	@mkdir -p $(dir $@)
	cd $(VSOCK_TEST_DIR)/tools/testing/vsock && \
		$(CC) $(VSOCK_TEST_CFLAGS) -I. -I../../include -o $(abspath $@) \
		vsock_$*.c timeout.c control.c util.c 2> build.log || \
		{ cat build.log >&2; exit 1; }

# xvsock: vsock checks written with nothing but <linux/vm_sockets.h>.
GUEST_BINS += $(_vt_p)build/guest/bin/xvsock
$(_vt_p)build/guest/bin/xvsock: $(_vt_p)test/xvsock.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
