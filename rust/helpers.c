// SPDX-License-Identifier: GPL-2.0
/*
 * dinofs C helpers: thin shims over inline/macro kernel APIs, the static
 * file_system_type, and module parameters. See helpers.h.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include "helpers.h"

static bool selftest_splat;
module_param(selftest_splat, bool, 0444);
MODULE_PARM_DESC(selftest_splat,
		 "Test-harness self-test: WARN once at load so 'make check' must fail (default: off)");

/*
 * The filesystem type lives in static storage: it embeds the lockdep class
 * keys for every dinofs superblock (s_lock_key, s_umount_key, ...), and
 * lockdep only accepts static keys.
 */
static struct file_system_type dinofs_fs_type = {
	.owner		 = THIS_MODULE,
	.name		 = "dinofs",
	.init_fs_context = dinofs_rs_init_fs_context,
	.kill_sb	 = kill_block_super,
	.fs_flags	 = FS_REQUIRES_DEV,
};
MODULE_ALIAS_FS("dinofs");

int dinofs_register_filesystem(void)
{
	return register_filesystem(&dinofs_fs_type);
}

void dinofs_unregister_filesystem(void)
{
	unregister_filesystem(&dinofs_fs_type);
}

void dinofs_fc_error(struct fs_context *fc, const char *msg)
{
	errorfc(fc, "%s", msg);
}

bool dinofs_selftest_splat(void)
{
	return selftest_splat;
}

void dinofs_selftest_warn(void)
{
	WARN(1, "dinofs: selftest_splat=1: deliberate warning so the test harness must fail\n");
}
