# SPDX-License-Identifier: GPL-2.0
#
# af_xen: AF_XEN stream sockets between Xen guests.
#
#   make            the module (af_xen.ko) and the guest programs
#   make check      every test: userspace ring and parser tests, then the
#                   in-guest suites on an emulated Xen host (QEMU); ends with
#                   "N passed, M failed"
#   make demo       stream data between two guests over AF_XEN, compare
#                   with UNIX and TCP sockets
#   make bench      the benchmark matrix (bench-results/)
#   make fuzz       fuzz the ring code for FUZZ_SECONDS (default 600);
#                   make fuzz-parse: the xenstore parsers (parse.c);
#                   make fuzz-rec: the record framing
#   make style      checkpatch --strict; make sparse: sparse (C=2)
#   make install    module, tools, man pages; make dkms-install: via DKMS
#
# KDIR selects the kernel to build against (default: the Debian 6.1
# headers that scripts/setup-deps installs, else the running kernel).

TOP := .
KVER ?= $(shell cat build/debs/kver 2>/dev/null || uname -r)
KDIR ?= /lib/modules/$(KVER)/build
KSRC := af_xen.c af_xen.h afx_sock.h link.c link.h vsock.c vsock_compat.h data.c seq.c opt.c live.c proc.c debug.c ring.c ring.h \
	grant.c selfmap.c reclaim.c xs.c chan.c mcast.c parse.c parse.h compat.h Kbuild include/uapi/linux/af_xen.h

.DEFAULT_GOAL := all
GUEST_BINS :=
UNIT_CHECKS :=
-include test/unit.mk
-include test/suite.mk
-include test/vsock.mk
-include test/bench.mk
-include tools/tools.mk
-include test/harness.mk

.PHONY: all module debug-module userspace check demo bench style sparse lint \
	$(addprefix lint-,$(KERNELS)) $(addprefix kmod-,$(KERNELS)) \
	clean deps install install-tools dkms-install dkms-check \
	$(addprefix dkms-check-,$(KERNELS))

all: module debug-module userspace

deps:
	@scripts/setup-deps

module: $(KSRC)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The test-only hostile-peer build (XEN_SO_DEBUG_CORRUPT), never the one
# that ships: a copy of the sources built with AFX_DEBUG=1.
# copy-tree DIR FILES: FILES copied into DIR, paths kept (a fresh tree of
# the module's sources for the debug build, lint and DKMS)
copy-tree = rm -rf $(1) && mkdir -p $(1)/include/uapi/linux && \
	for f in $(2); do cp $$f $(1)/$$f; done

debug-module: build/debug/af_xen.ko
build/debug/af_xen.ko: $(KSRC)
	@$(call copy-tree,build/debug,$(KSRC))
	$(MAKE) -C $(KDIR) M=$(CURDIR)/build/debug AFX_DEBUG=1 modules

userspace: $(GUEST_BINS)

# kmod-K: af_xen.ko and the AFX_DEBUG build for guest kernel K (6.12,
# 7.3), in build/mod/K/{std,debug}; scripts/kbuild picks the headers and
# the build environment (the host, or a trixie build root for 7.x).
KERNELS := 6.1 6.12 7.3
build/mod/%/std/af_xen.ko: $(KSRC)
	@scripts/setup-suites $*
	@$(call copy-tree,build/mod/$*/std,$(KSRC))
	scripts/kbuild $* M=$(CURDIR)/build/mod/$*/std modules
build/mod/%/debug/af_xen.ko: $(KSRC)
	@$(call copy-tree,build/mod/$*/debug,$(KSRC))
	scripts/kbuild $* M=$(CURDIR)/build/mod/$*/debug AFX_DEBUG=1 modules
kmod-%: build/mod/%/std/af_xen.ko build/mod/%/debug/af_xen.ko
	@true
# Not intermediate files: vmrun takes them from there.
.PRECIOUS: build/mod/%/std/af_xen.ko build/mod/%/debug/af_xen.ko

# The previous wire protocols, for make check's pairing tests (guest-tests
# phase compat), rebuilt from this repository's history for Linux 6.1:
# af_xen-prev.ko from before socket types entered the connect request,
# af_xen-prev1.ko from before control channels (module node "1").
AFX_PREV_REV ?= 2c43637b8f72ead9b7bb18f3329287298e7128ee
AFX_PREV1_REV ?= 3cf817c0783c436ca06cd3cde0d97c6d6063cbfd
prev-module: build/prev/files/af_xen-prev.ko build/prev/files/af_xen-prev1.ko
define afx-prev-rule
build/prev/files/af_xen-$(1).ko:
	@rm -rf build/prev/$(1) && mkdir -p build/prev/$(1) build/prev/files
	@git -C $$(CURDIR) archive $(2) | \
		tar -x -C build/prev/$(1) || { echo "prev-module: commit" \
		"$(2) is not in this clone's history" >&2; exit 1; }
	$$(MAKE) -C $$(KDIR) M=$$(CURDIR)/build/prev/$(1) modules
	cp build/prev/$(1)/af_xen.ko $$@
endef
$(eval $(call afx-prev-rule,prev,$(AFX_PREV_REV)))
$(eval $(call afx-prev-rule,prev1,$(AFX_PREV1_REV)))

check:
	@scripts/check

demo:
	@scripts/demo

bench:
	@scripts/bench

CHECKPATCH := build/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH):
	@scripts/setup-deps
	@mkdir -p build/checkpatch
	tar -xf build/debs/root/usr/src/linux-source-6.1.tar.xz \
		-C build/checkpatch --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	@touch $@

# compat.h exists to test LINUX_VERSION_CODE; checkpatch objects to that
# by design, so those two checks are off for that one file.
style: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --strict -q -f af_xen.c af_xen.h afx_sock.h link.c link.h vsock.c vsock_compat.h ring.c ring.h \
		data.c seq.c opt.c live.c proc.c debug.c grant.c selfmap.c reclaim.c xs.c chan.c mcast.c \
		parse.c parse.h include/uapi/linux/af_xen.h
	$(CHECKPATCH) --no-tree --strict -q \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f compat.h

sparse:
	touch af_xen.c
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 modules

# A fresh copy built with W=1 and sparse on every file, default and
# AFX_DEBUG code, against each supported kernel's headers: any compiler,
# sparse or modpost line about our sources is a finding (make check
# counts them; it also checks that an injected finding, LINT_INJECT
# appended to grant.c, fails this target).  From 6.13 kbuild prints
# paths relative to the module
# directory, so the pattern matches a source name with or without one.
LINT_KERNELS ?= $(KERNELS)
# Both of this machine's cores: lint is most of make check's time before
# the first boot, when nothing else runs.
LINT_JOBS ?= 2
space := $(subst ,, )
LINT_FINDING := (^|/)($(subst $(space),|,$(sort $(basename $(notdir $(filter %.c %.h,$(KSRC)))))))\.[ch]:[0-9]+(:[0-9]+)?: (warning|error)|^WARNING: |^ERROR: |error:
lint: $(addprefix lint-,$(LINT_KERNELS))
# With LINT_INJECT (scripts/check's proof that lint fails), the line goes
# into grant.c of the default build's tree, reused when it is there (the
# sources that changed copied in), so that only what changed is compiled
# and checked again.
lint-%:
	$(if $(filter-out 6.1,$*),@scripts/setup-suites $*)
	@for dbg in $$([ -n "$$LINT_INJECT" ] && echo 0 || echo 0 1); do \
		d=build/lint/$*/$$dbg; \
		if [ -z "$$LINT_INJECT" ] || [ ! -f $$d/grant.c ]; then \
			$(call copy-tree,$$d,$(KSRC)); \
		else \
			for f in $(KSRC); do \
				cmp -s $$f $$d/$$f || cp $$f $$d/$$f; done; \
		fi; \
		if [ -n "$$LINT_INJECT" ]; then \
			printf '%s\n' "$$LINT_INJECT" >> $$d/grant.c; fi; \
		scripts/kbuild $* -s -j$(LINT_JOBS) M=$(CURDIR)/$$d W=1 C=1 \
			AFX_DEBUG=$$([ $$dbg = 1 ] && echo 1) modules > $$d.log 2>&1; \
		rc=$$?; \
		if grep -E '$(LINT_FINDING)' $$d.log; then \
			echo "lint: Linux $* (AFX_DEBUG=$$dbg): findings above"; exit 1; fi; \
		if [ $$rc != 0 ]; then \
			tail -n 20 $$d.log; echo "lint: Linux $*: build failed"; exit 1; fi; \
	done

# Everything but the module: tools, shim, modprobe hook, header, man pages.
install-tools: userspace
	install -D -m 755 build/guest/bin/af_xen-setup $(DESTDIR)/usr/sbin/af_xen-setup
	install -D -m 755 build/guest/bin/xsock $(DESTDIR)/usr/bin/xsock
	install -D -m 644 $(PRELOAD_LIB) \
		$(DESTDIR)/usr/lib/af_xen/libaf_xen_preload.so
	install -D -m 644 tools/af_xen.modprobe.conf $(DESTDIR)/etc/modprobe.d/af_xen.conf
	install -D -m 644 include/uapi/linux/af_xen.h $(DESTDIR)/usr/include/linux/af_xen.h
	install -D -m 644 man/af_xen.7 $(DESTDIR)/usr/share/man/man7/af_xen.7
	install -D -m 644 man/xsock.1 $(DESTDIR)/usr/share/man/man1/xsock.1

install: module install-tools
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(KVER)

# DKMS rebuilds the module for every kernel the guest installs later.
DKMS_VER := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_FILES := $(KSRC) dkms.conf

dkms-install: install-tools
	-dkms remove -m af_xen -v $(DKMS_VER) --all
	$(call copy-tree,/usr/src/af_xen-$(DKMS_VER),$(DKMS_FILES))
	dkms install -m af_xen -v $(DKMS_VER) -k $(KVER)

# make check: a real "dkms build" against each kernel's headers, in a
# private DKMS tree under build/ so that the system's is left alone (7.3:
# the dkms of the trixie build root, see scripts/kbuild --in).
dkms-check: $(addprefix dkms-check-,$(KERNELS))
dkms-check-%:
	$(if $(filter-out 6.1,$*),@scripts/setup-suites $*)
	$(call copy-tree,build/dkms/$*/src/af_xen-$(DKMS_VER),$(DKMS_FILES))
	rm -rf build/dkms/$*/tree && mkdir -p build/dkms/$*/tree
	kver=$$(scripts/kbuild $* --kver) && \
	ksrc=$$(if [ $* = 6.12 ]; then echo --kernelsourcedir $$(scripts/kbuild $* --kdir); fi) && \
	scripts/kbuild $* --in $(CURDIR)/build/dkms/$* \
		dkms build -m af_xen -v $(DKMS_VER) -k $$kver $$ksrc \
		--dkmstree $(CURDIR)/build/dkms/$*/tree \
		--sourcetree $(CURDIR)/build/dkms/$*/src && \
	modinfo -F vermagic build/dkms/$*/tree/af_xen/$(DKMS_VER)/$$kver/*/module/af_xen.ko* | \
		grep -q "^$$kver "

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf build/guest build/debug build/unit build/host build/run.*

print-unit-checks:
	@echo $(UNIT_CHECKS)
