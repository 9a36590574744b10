// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test only: a module whose loading triggers a kernel
 * WARNING, to prove that scripts/vmrun fails a run in which a guest
 * kernel warns.  Never loaded outside that test.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init afx_warn_init(void)
{
	WARN(1, "af_xen harness self-test: deliberate warning\n");
	return -EAGAIN;
}

module_init(afx_warn_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("af_xen harness self-test: triggers a WARNING on load");
