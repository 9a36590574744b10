# SPDX-License-Identifier: GPL-2.0
#
# Linux's own vsock tests (tools/testing/vsock: vsock_test and
# vsock_diag_test), which judge af_xen_vsock's semantics.  One pair per
# guest kernel K, build/guest/bin/vsock_test-K and vsock_diag_test-K,
# built from Debian's linux-source package of exactly that kernel: each
# version's tests expect what its own vsock core does.  Static, so that
# they run in the busybox guests; never committed.  Included by the
# top-level Makefile.
#
#   6.1    build/debs/root/usr/src/linux-source-6.1.tar.xz (scripts/
#          setup-deps), unpacked here into build/vsock-test
#   6.12   build/suites/6.12/vsock-src, 7.3: build/suites/7.3/vsock-src,
#          which scripts/setup-suites 6.12 / 7.3 unpacks (its stamp:
#          build/suites/K/.vsock-src)
#
# make all builds the 6.1 pair, and the 6.12 and 7.3 pairs once their
# sources are there; make vsock-tests-K builds K's pair, setting the
# suite up first if need be (as kmod-K does), and fails if it cannot.
#
# Each pair is built by its own tree's Makefile, so that it links what
# that version links (6.12 and 7.3 add vsock_test_zerocopy.o and
# msg_zerocopy_common.o, 7.3 -lpthread) with that version's CFLAGS
# (-Werror among them); we add only -static and -s (stripped).  Their
# -I../../../usr/include is a headers_install tree that is not there, so
# the uapi headers are the build machine's (bookworm's, Linux 6.1).  That
# is enough and changes nothing: preprocessed against Debian's
# linux-libc-dev 6.12.117 and 7.3.4 instead, every file of both programs
# differs only in declarations they do not use (statx fields, new enum
# values, __kernel_uoff_t).  A later version that needs a newer constant
# fails to compile, loudly, rather than building something else.

TOP ?= .
_vt_p := $(if $(filter .,$(TOP)),,$(TOP)/)
VSOCK_TEST_SRC_TAR := $(_vt_p)build/debs/root/usr/src/linux-source-6.1.tar.xz
VSOCK_TEST_DIR := $(_vt_p)build/vsock-test
VSOCK_BIN := $(_vt_p)build/guest/bin

$(VSOCK_TEST_DIR)/.extracted: $(VSOCK_TEST_SRC_TAR)
	@rm -rf $(VSOCK_TEST_DIR) && mkdir -p $(VSOCK_TEST_DIR)
	tar -xJf $< -C $(VSOCK_TEST_DIR) --strip-components=1 \
		linux-source-6.1/tools/testing/vsock linux-source-6.1/tools/include
	@touch $@

# The 6.12 and 7.3 trees: scripts/setup-suites K fetches and unpacks them.
$(_vt_p)build/suites/%/.vsock-src:
	scripts/setup-suites $*

# vsock_tree K / vsock_stamp K: where K's tools/testing/vsock is, and the
# file that says it is complete.
vsock_tree = $(if $(filter 6.1,$1),$(VSOCK_TEST_DIR),$(_vt_p)build/suites/$1/vsock-src)/tools/testing/vsock
vsock_stamp = $(if $(filter 6.1,$1),$(VSOCK_TEST_DIR)/.extracted,$(_vt_p)build/suites/$1/.vsock-src)
vsock_bins = $(VSOCK_BIN)/vsock_test-$1 $(VSOCK_BIN)/vsock_diag_test-$1

# One recipe makes both programs of a kernel (&:): they share objects, so
# two sub-makes in one tree under make -j would race.  The tree's
# Makefile keeps its objects there (build/, never committed); its output,
# the linker's warning about getaddrinfo in a static program included,
# goes to build.log there and is shown if the build fails.
define vsock_rules
$(call vsock_bins,$1) &: $(call vsock_stamp,$1)
	@mkdir -p $(VSOCK_BIN)
	$$(MAKE) -C $(call vsock_tree,$1) CC="$$(CC)" LDFLAGS="-static -s" \
		vsock_test vsock_diag_test > $(call vsock_tree,$1)/build.log 2>&1 || \
		{ cat $(call vsock_tree,$1)/build.log >&2; exit 1; }
	cp $(call vsock_tree,$1)/vsock_test $(VSOCK_BIN)/vsock_test-$1
	cp $(call vsock_tree,$1)/vsock_diag_test $(VSOCK_BIN)/vsock_diag_test-$1
vsock-tests-$1: $(call vsock_bins,$1)
.PHONY: vsock-tests-$1
endef
VSOCK_KERNELS := 6.1 6.12 7.3
$(foreach k,$(VSOCK_KERNELS),$(eval $(call vsock_rules,$k)))
vsock-tests: $(addprefix vsock-tests-,$(VSOCK_KERNELS))
.PHONY: vsock-tests

# make all (GUEST_BINS): 6.1's always, a later kernel's once its sources
# are set up, so that make all needs no network and no suite.
GUEST_BINS += $(call vsock_bins,6.1) $(foreach k,6.12 7.3,$(if \
	$(wildcard $(call vsock_stamp,$k)),$(call vsock_bins,$k)))

# xvsock: vsock checks written with nothing but <linux/vm_sockets.h>.
GUEST_BINS += $(_vt_p)build/guest/bin/xvsock
$(_vt_p)build/guest/bin/xvsock: $(_vt_p)test/xvsock.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# pyvsock: the same checks from Python's own socket.AF_VSOCK (the guest
# image carries a minimal python3, scripts/mkimages).
GUEST_BINS += $(VSOCK_BIN)/pyvsock.py
$(VSOCK_BIN)/pyvsock.py: $(_vt_p)test/pyvsock.py
	@mkdir -p $(dir $@)
	install -m 755 $< $@
