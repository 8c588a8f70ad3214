// SPDX-License-Identifier: GPL-2.0
/*
 * dinofs C helpers (see helpers.h). Three kinds of code only, each group
 * labelled with its kind:
 *
 *   [static]  what must live in static storage in C: the file_system_type
 *             (it embeds lockdep class keys), the mount-option table
 *             (fsparam_* macros), the inode slab cache, module parameters;
 *   [shim]    one-line wrappers of static inline functions and macros;
 *   [trace]   the tracepoint definitions and their one entry point.
 *
 * The operation tables and every callback are Rust (rust/vfs/ops.rs).
 */
#include <linux/blkdev.h>
#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/fs_types.h>
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include "helpers.h"

#define CREATE_TRACE_POINTS
#include "dinofs_trace.h"

static bool selftest_splat;
module_param(selftest_splat, bool, 0444);
MODULE_PARM_DESC(selftest_splat,
		 "Test-harness self-test: WARN once at load so 'make check' must fail (default: off)");

/* --- [static] the inode cache ------------------------------------------- */

static struct kmem_cache *dinofs_inode_cachep;

static void dinofs_inode_init_once(void *obj)
{
	struct dinofs_inode *di = obj;

	mutex_init(&di->data_lock);
	inode_init_once(&di->vfs_inode);
}

/* The alloc_inode trampoline (Rust) then writes the filesystem's data. */
struct inode *dinofs_alloc_inode(struct super_block *sb)
{
	struct dinofs_inode *di;

	di = alloc_inode_sb(sb, dinofs_inode_cachep, GFP_KERNEL);
	return di ? &di->vfs_inode : NULL;
}

static void dinofs_free_inode_cb(struct rcu_head *head)
{
	struct inode *inode = container_of(head, struct inode, i_rcu);

	kmem_cache_free(dinofs_inode_cachep, dinofs_i(inode));
}

/*
 * dinofs has ->destroy_inode and no ->free_inode, so the VFS hands the inode
 * memory to us (the engine may keep it queued for inactivation). It is
 * freed here, after an RCU grace period, because RCU path walk may still be
 * looking at it.
 */
void dinofs_free_inode_rcu(struct inode *inode)
{
	call_rcu(&inode->i_rcu, dinofs_free_inode_cb);
}

struct dinofs_inode *dinofs_i(struct inode *inode)
{
	return container_of(inode, struct dinofs_inode, vfs_inode);
}

struct dinofs_inode *dinofs_i_of_gc_node(struct llist_node *node)
{
	return container_of(node, struct dinofs_inode, gc_node);
}

void dinofs_data_lock(struct inode *inode)
{
	mutex_lock(&dinofs_i(inode)->data_lock);
}

void dinofs_data_unlock(struct inode *inode)
{
	mutex_unlock(&dinofs_i(inode)->data_lock);
}

/* --- [static] the filesystem type and its mount options ----------------- */

/* Mount options; the values are the u32 dinofs_fc_parse() hands to Rust. */
enum { DINOFS_OPT_INODEGC, DINOFS_OPT_ERRORS, DINOFS_OPT_COMMIT };

static const struct constant_table dinofs_param_inodegc[] = {
	{ "deferred", 0 },
	{ "sync",     1 },
	{}
};

static const struct constant_table dinofs_param_errors[] = {
	{ "continue",  0 },
	{ "remount-ro", 1 },
	{}
};

static const struct fs_parameter_spec dinofs_param_specs[] = {
	fsparam_enum("inodegc", DINOFS_OPT_INODEGC, dinofs_param_inodegc),
	fsparam_enum("errors", DINOFS_OPT_ERRORS, dinofs_param_errors),
	fsparam_u32("commit", DINOFS_OPT_COMMIT),
	{}
};

/*
 * Parses one mount option against the table above. Returns the option
 * index (>= 0) with its value in *result, or a negative errno (-ENOPARAM
 * for unknown options, which the VFS turns into "Unknown parameter").
 */
int dinofs_fc_parse(struct fs_context *fc, struct fs_parameter *param,
		    u32 *result)
{
	struct fs_parse_result res;
	int opt = fs_parse(fc, dinofs_param_specs, param, &res);

	if (opt >= 0)
		*result = res.uint_32;
	return opt;
}


/*
 * The filesystem type lives in static storage: it embeds the lockdep class
 * keys for every dinofs superblock (s_lock_key, s_umount_key, ...), and
 * lockdep only accepts static keys.
 */
static struct file_system_type dinofs_fs_type = {
	.owner		 = THIS_MODULE,
	.name		 = "dinofs",
	/* .init_fs_context: the registering Rust code's (rust/vfs/ops.rs). */
	.kill_sb	 = kill_block_super,
	.fs_flags	 = FS_REQUIRES_DEV,
	.parameters	 = dinofs_param_specs,
};
MODULE_ALIAS_FS("dinofs");

/* Fails with -EBUSY while a registration holds the type. */
int dinofs_register_filesystem(int (*init_fs_context)(struct fs_context *fc))
{
	int err;

	if (cmpxchg(&dinofs_fs_type.init_fs_context, NULL, init_fs_context))
		return -EBUSY;
	dinofs_inode_cachep = kmem_cache_create("dinofs_inode",
			sizeof(struct dinofs_inode), 0,
			SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
			dinofs_inode_init_once);
	if (!dinofs_inode_cachep) {
		err = -ENOMEM;
		goto out_type;
	}
	err = register_filesystem(&dinofs_fs_type);
	if (err)
		goto out_cache;
	return 0;
out_cache:
	kmem_cache_destroy(dinofs_inode_cachep);
out_type:
	WRITE_ONCE(dinofs_fs_type.init_fs_context, NULL);
	return err;
}

void dinofs_unregister_filesystem(void)
{
	unregister_filesystem(&dinofs_fs_type);
	/*
	 * No mount is left (they pin the module): remove the debugfs parent
	 * directory the mounts' directories were made in (kernel_ext/debugfs).
	 */
	debugfs_lookup_and_remove("dinofs", NULL);
	/* Inodes are freed after an RCU grace period (free_inode). */
	rcu_barrier();
	kmem_cache_destroy(dinofs_inode_cachep);
	WRITE_ONCE(dinofs_fs_type.init_fs_context, NULL);
}

void dinofs_fc_error(struct fs_context *fc, const char *msg)
{
	errorfc(fc, "%s", msg);
}

/* --- [shim] inodes, dentries, superblocks ---------------------------------- */

void dinofs_inode_set_ops(struct inode *inode,
			  const struct inode_operations *iop,
			  const struct file_operations *fop,
			  const struct address_space_operations *aops)
{
	inode->i_op = iop;
	if (fop)
		inode->i_fop = fop;	/* in a union with free_inode */
	if (aops)
		inode->i_mapping->a_ops = aops;
}


void dinofs_i_size_write(struct inode *inode, loff_t size)
{
	i_size_write(inode, size);
}

loff_t dinofs_i_size_read(const struct inode *inode)
{
	return i_size_read(inode);
}

struct timespec64 dinofs_inode_get_atime(struct inode *inode)
{
	return inode_get_atime(inode);
}

struct timespec64 dinofs_inode_get_mtime(struct inode *inode)
{
	return inode_get_mtime(inode);
}

struct timespec64 dinofs_inode_get_ctime(struct inode *inode)
{
	return inode_get_ctime(inode);
}

void dinofs_inode_set_times(struct inode *inode, s64 asec, u32 ansec, s64 msec,
			    u32 mnsec, s64 csec, u32 cnsec)
{
	inode_set_atime(inode, asec, ansec);
	inode_set_mtime(inode, msec, mnsec);
	inode_set_ctime(inode, csec, cnsec);
}

void dinofs_inode_touch_mctime(struct inode *inode)
{
	inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
}

uid_t dinofs_i_uid_read(const struct inode *inode)
{
	return i_uid_read(inode);
}

gid_t dinofs_i_gid_read(const struct inode *inode)
{
	return i_gid_read(inode);
}

void dinofs_i_uid_write(struct inode *inode, uid_t uid)
{
	i_uid_write(inode, uid);
}

void dinofs_i_gid_write(struct inode *inode, gid_t gid)
{
	i_gid_write(inode, gid);
}

const u8 *dinofs_dentry_name(const struct dentry *dentry, u32 *len)
{
	*len = dentry->d_name.len;
	return dentry->d_name.name;
}

/* Size of the block device in 4 KiB blocks. */
u64 dinofs_sb_dev_blocks(struct super_block *sb)
{
	return bdev_nr_bytes(sb->s_bdev) >> 12;
}

u32 dinofs_sb_meta_err_sample(struct super_block *sb)
{
	return READ_ONCE(sb->s_bdev->bd_mapping->wb_err);
}

int dinofs_sb_meta_err_check(struct super_block *sb, u32 since)
{
	return errseq_check(&sb->s_bdev->bd_mapping->wb_err, since);
}

/* --- [shim] jbd2 ------------------------------------------------------------ */

/*
 * BH_DinofsVerified: the block's checksum was verified since it was last
 * read from disk. Metadata is verified once per read, not on every use;
 * dinofs reseals every block it changes, so the bit stays true.
 *
 * The first bit jbd2 leaves to filesystems (as ext4's BH_Uninit): the
 * BH_PrivateStart bits below it are jbd2's own once the device carries a
 * journal (BH_PrivateStart is BH_JBD, set on every journaled buffer).
 */
enum { BH_DinofsVerified = BH_JBDPrivateStart };
BUFFER_FNS(DinofsVerified, dinofs_verified)

/*
 * jbd2_journal_init_dev() over the filesystem's own device, with the
 * barrier flag (without JBD2_BARRIER no commit sends PREFLUSH/FUA, so a
 * commit would not be durable) set as ext4 sets it, under j_state_lock.
 * The journal stays JBD2_ABORT until jbd2_journal_load().
 */
journal_t *dinofs_journal_init(struct super_block *sb, u64 start, int len,
			       int *err)
{
	journal_t *journal = jbd2_journal_init_dev(sb->s_bdev, sb->s_bdev,
						   start, len,
						   sb->s_blocksize);

	if (IS_ERR(journal)) {
		*err = PTR_ERR(journal);
		return NULL;
	}
	journal->j_private = sb;
	write_lock(&journal->j_state_lock);
	journal->j_flags |= JBD2_BARRIER;
	write_unlock(&journal->j_state_lock);
	*err = 0;
	return journal;
}

/* Whether the log holds transactions to replay (s_start != 0). */
bool dinofs_journal_needs_recovery(journal_t *journal)
{
	return journal->j_superblock->s_start != 0;
}

/*
 * jbd2__journal_start() with revoke credits and GFP_NOFS (jbd2_journal_start
 * takes no revokes); ERR_PTR decoded into *err.
 */
handle_t *dinofs_journal_start(journal_t *journal, int credits, int revokes,
			       int *err)
{
	handle_t *handle = jbd2__journal_start(journal, credits, 0, revokes,
					       GFP_NOFS, 0, 0);

	if (IS_ERR(handle)) {
		*err = PTR_ERR(handle);
		return NULL;
	}
	*err = 0;
	return handle;
}

/*
 * Tells jbd2 that the device's write errors so far are accounted for (the
 * filesystem decided none of them lost anything): advances its mark of the
 * device's errseq, which jbd2 otherwise checks at destroy (and before
 * write access) and aborts the journal on. Marks the errors seen.
 */
void dinofs_journal_forgive_write_errors(journal_t *journal)
{
	errseq_check_and_advance(&journal->j_fs_dev->bd_mapping->wb_err,
				 &journal->j_fs_dev_wb_err);
}

/* is_journal_aborted() is a static inline. */
bool dinofs_journal_aborted(journal_t *journal)
{
	return is_journal_aborted(journal);
}

/*
 * jbd2_journal_force_commit() J_ASSERTs (BUG_ON) that the caller runs no
 * handle: it would wait for a commit that waits for that handle. `current`
 * is a macro, so the check lives here; -EDEADLK instead of the BUG.
 */
int dinofs_journal_commit(journal_t *journal)
{
	if (current->journal_info)
		return -EDEADLK;
	return jbd2_journal_force_commit(journal);
}

/*
 * The task's running handle if it is one of `journal`'s: jbd2's
 * journal_current_handle() is current->journal_info, which another
 * filesystem's handle may occupy. NULL (and a warning: a dinofs bug) when
 * none is; every dinofs metadata change runs in a handle (fs/trans.rs).
 */
static handle_t *dinofs_handle_of(journal_t *journal)
{
	handle_t *handle = journal_current_handle();

	if (WARN_ON_ONCE(!handle || handle->h_reserved ||
			 !handle->h_transaction ||
			 handle->h_transaction->t_journal != journal))
		return NULL;
	return handle;
}

/* Buffer credits a handle grows by when it runs out of them. */
#define DINOFS_CREDIT_EXTEND 8

/*
 * Whether `handle` may log `bh`: it has a buffer credit left, or grows by a
 * few (an estimate short by a block must not WARN in
 * jbd2_journal_dirty_metadata), or `bh` is already logged in the handle's
 * transaction (costs nothing more; a transaction cannot commit, so the
 * buffer cannot leave it, while one of its handles runs).
 */
static bool dinofs_credit_for(handle_t *handle, struct buffer_head *bh)
{
	struct journal_head *jh;
	bool ours;

	if (jbd2_handle_buffer_credits(handle) > 0 ||
	    !jbd2_journal_extend(handle, DINOFS_CREDIT_EXTEND, 0))
		return true;
	jh = jbd2_journal_grab_journal_head(bh);
	if (!jh)
		return false;
	ours = READ_ONCE(jh->b_transaction) == handle->h_transaction;
	jbd2_journal_put_journal_head(jh);
	return ours;
}

/* Before a buffer's bytes change (never under its lock: jbd2 takes it). */
int dinofs_journal_get_write_access(journal_t *journal, struct buffer_head *bh)
{
	handle_t *handle = dinofs_handle_of(journal);

	if (!handle)
		return -EIO;
	/*
	 * Out of buffer credits: grow the handle by a few (an estimate short
	 * by a block must not WARN in jbd2_journal_dirty_metadata); if the
	 * transaction cannot grow, jbd2 refuses the buffer with -ENOSPC only
	 * when it is not already logged in this transaction.
	 */
	if (!dinofs_credit_for(handle, bh))
		return -ENOSPC;
	return jbd2_journal_get_write_access(handle, bh);
}

/* After they changed: the buffer joins the running transaction. */
int dinofs_journal_dirty_metadata(journal_t *journal, struct buffer_head *bh)
{
	handle_t *handle = dinofs_handle_of(journal);

	return handle ? jbd2_journal_dirty_metadata(handle, bh) : -EIO;
}

/*
 * A newly allocated metadata block: its buffer, created in the running
 * transaction (jbd2_journal_get_create_access, which wants the buffer
 * lock held), zeroed, uptodate, logged. The verified bit is cleared (the
 * caller seals what it writes). NULL with *err set on failure.
 */
struct buffer_head *dinofs_journal_getblk_create(journal_t *journal,
						 struct super_block *sb,
						 u64 block, int *err)
{
	handle_t *handle = dinofs_handle_of(journal);
	struct buffer_head *bh;
	int ret;

	if (!handle) {
		*err = -EIO;
		return NULL;
	}
	bh = sb_getblk(sb, block);
	if (!bh) {
		*err = -ENOMEM;
		return NULL;
	}
	if (!dinofs_credit_for(handle, bh)) {
		brelse(bh);
		*err = -ENOSPC;
		return NULL;
	}
	lock_buffer(bh);
	ret = jbd2_journal_get_create_access(handle, bh);
	if (ret) {
		unlock_buffer(bh);
		brelse(bh);
		*err = ret;
		return NULL;
	}
	memset(bh->b_data, 0, bh->b_size);
	clear_buffer_dinofs_verified(bh);
	set_buffer_uptodate(bh);
	unlock_buffer(bh);
	ret = jbd2_journal_dirty_metadata(handle, bh);
	if (ret) {
		brelse(bh);
		*err = ret;
		return NULL;
	}
	return bh;
}

/*
 * A freed metadata block: a revoke record in the running transaction, so
 * a replay never writes an older transaction's copy of it over what the
 * block holds next; its cached buffer, if any, is forgotten (leaves the
 * transactions it is on, as ext4_forget does). jbd2_journal_revoke drops
 * the buffer reference it is given, except when the handle is aborted
 * (jbd2_journal_forget returns first), which is checked here first.
 */
/* Revoke records a handle grows by when it runs out of them. */
#define DINOFS_REVOKE_EXTEND 64

int dinofs_journal_revoke(journal_t *journal, struct super_block *sb, u64 block)
{
	handle_t *handle = dinofs_handle_of(journal);
	struct buffer_head *bh;

	if (!handle)
		return -EIO;
	if (is_handle_aborted(handle))
		return -EROFS;
	/*
	 * Out of revoke credits (the caller's estimate was short: a sparse
	 * map has more indirect blocks than its size suggests): grow the
	 * handle rather than let jbd2_journal_revoke WARN; -ENOSPC when the
	 * running transaction cannot take more.
	 */
	if (handle->h_revoke_credits <= 0 &&
	    jbd2_journal_extend(handle, 0, DINOFS_REVOKE_EXTEND))
		return -ENOSPC;
	bh = sb_find_get_block(sb, block);
	/*
	 * Revoked twice without being journaled in between: jbd2 would
	 * return -EIO keeping the reference it was given; refuse here and
	 * drop it (jbd2_journal_revoke drops it on every other path).
	 */
	if (bh && buffer_revoked(bh)) {
		brelse(bh);
		return -EIO;
	}
	return jbd2_journal_revoke(handle, block, bh);
}

/*
 * Whether the task runs a handle of `journal` (no warning: the question is
 * legitimate outside one).
 */
bool dinofs_journal_in_handle(journal_t *journal)
{
	handle_t *handle = journal_current_handle();

	return handle && !handle->h_reserved && handle->h_transaction &&
	       handle->h_transaction->t_journal == journal;
}

/*
 * The tid of the transaction the task's handle of `journal` belongs to, in
 * *tid; false without such a handle. A block freed now is busy until that
 * transaction commits.
 */
bool dinofs_journal_handle_tid(journal_t *journal, u32 *tid)
{
	handle_t *handle = journal_current_handle();

	if (!handle || handle->h_reserved || !handle->h_transaction ||
	    handle->h_transaction->t_journal != journal)
		return false;
	*tid = handle->h_transaction->t_tid;
	return true;
}

/* Whether transaction `tid` has committed (jbd2_transaction_committed). */
bool dinofs_journal_committed(journal_t *journal, u32 tid)
{
	return jbd2_transaction_committed(journal, tid);
}

/*
 * Commits transaction `tid` if it still runs and waits until it is on the
 * disk (jbd2_complete_transaction; a tid already committed returns at
 * once). -EDEADLK from inside a handle: the commit would wait for it.
 */
int dinofs_journal_complete(journal_t *journal, u32 tid)
{
	if (journal_current_handle())
		return -EDEADLK;
	return jbd2_complete_transaction(journal, tid);
}

/*
 * The commit interval (the commit= mount option), as ext4 sets it: the
 * commit thread commits a running transaction this long after it began.
 */
void dinofs_journal_set_commit_interval(journal_t *journal, unsigned int secs)
{
	write_lock(&journal->j_state_lock);
	journal->j_commit_interval = secs * HZ;
	write_unlock(&journal->j_state_lock);
}

/*
 * The log blocks `revokes` revoke records take on top of a handle's credits
 * (jbd2__journal_start adds them to h_total_credits, and start_this_handle
 * refuses, with a WARN, a total above jbd2_max_user_trans_buffers).
 */
int dinofs_journal_revoke_blocks(journal_t *journal, int revokes)
{
	return DIV_ROUND_UP(revokes, journal->j_revoke_records_per_block);
}

/* The most credits one handle may ask for (jbd2_max_user_trans_buffers). */
int dinofs_journal_max_credits(journal_t *journal)
{
	return journal->j_max_transaction_buffers -
	       journal->j_transaction_overhead_buffers;
}

/* Freeze protection for the filesystem's own work (static inlines). */
void dinofs_sb_start_intwrite(struct super_block *sb)
{
	sb_start_intwrite(sb);
}

void dinofs_sb_end_intwrite(struct super_block *sb)
{
	sb_end_intwrite(sb);
}

/* Freeze protection of a page fault that dirties a page (static inlines). */
void dinofs_sb_start_pagefault(struct super_block *sb)
{
	sb_start_pagefault(sb);
}

void dinofs_sb_end_pagefault(struct super_block *sb)
{
	sb_end_pagefault(sb);
}

/* vmf_fs_error() is a static inline. */
vm_fault_t dinofs_vmf_fs_error(int err)
{
	return vmf_fs_error(err);
}

/* --- [shim] buffer heads ---------------------------------------------------- */


/* sb_bread(), clearing the verified bit whenever the block is read in. */
struct buffer_head *dinofs_sb_bread(struct super_block *sb, u64 block)
{
	struct buffer_head *bh = sb_getblk(sb, block);

	if (!bh)
		return NULL;
	if (!buffer_uptodate(bh)) {
		clear_buffer_dinofs_verified(bh);
		if (bh_read(bh, 0) < 0) {
			brelse(bh);
			return NULL;
		}
	}
	return bh;
}

/*
 * Starts reading a block that is not cached, without waiting (sb_breadahead,
 * with the verified bit cleared first, as dinofs_sb_bread does: the block
 * comes in from disk and must be verified again).
 */
void dinofs_sb_breadahead(struct super_block *sb, u64 block)
{
	struct buffer_head *bh = sb_getblk(sb, block);

	if (!bh)
		return;
	if (!buffer_uptodate(bh)) {
		clear_buffer_dinofs_verified(bh);
		bh_readahead(bh, REQ_RAHEAD);
	}
	brelse(bh);
}

bool dinofs_buffer_verified(struct buffer_head *bh)
{
	return buffer_dinofs_verified(bh);
}

void dinofs_set_buffer_verified(struct buffer_head *bh)
{
	set_buffer_dinofs_verified(bh);
}

/* Whether jbd2 manages the buffer (buffer_jbd is a macro-made inline). */
bool dinofs_buffer_journaled(struct buffer_head *bh)
{
	return buffer_jbd(bh);
}

void dinofs_lock_buffer(struct buffer_head *bh)
{
	lock_buffer(bh);
}

void dinofs_map_bh(struct buffer_head *bh, struct super_block *sb, u64 block)
{
	map_bh(bh, sb, block);
}

void dinofs_set_buffer_new(struct buffer_head *bh)
{
	set_buffer_new(bh);
}

bool dinofs_dir_emit(struct dir_context *ctx, const u8 *name, int len, u64 ino,
		     unsigned int type)
{
	/* The on-disk type is an FT_* value (fs_ftype.h); readdir wants DT_*. */
	return dir_emit(ctx, name, len, ino, fs_ftype_to_dtype(type));
}

/* sync_fs during freeze_super(), after page faults are blocked. */
bool dinofs_sb_freezing_pagefault(struct super_block *sb)
{
	return sb->s_writers.frozen == SB_FREEZE_PAGEFAULT;
}

/* Frozen: freeze_super() completed. */
bool dinofs_sb_frozen(struct super_block *sb)
{
	return READ_ONCE(sb->s_writers.frozen) == SB_FREEZE_COMPLETE;
}

/* No freeze in progress or complete. */
bool dinofs_sb_unfrozen(struct super_block *sb)
{
	return READ_ONCE(sb->s_writers.frozen) == SB_UNFROZEN;
}

/* --- [trace] ---------------------------------------------------------------- */

/* One entry point for all engine events, so Rust needs one binding. */
void dinofs_trace_gc(int event, dev_t dev, u64 ino, unsigned int cpu,
		     unsigned int items)
{
	switch (event) {
	case DINOFS_TRACE_FLUSH: trace_dinofs_inodegc_flush(dev); break;
	case DINOFS_TRACE_PUSH: trace_dinofs_inodegc_push(dev); break;
	case DINOFS_TRACE_STOP: trace_dinofs_inodegc_stop(dev); break;
	case DINOFS_TRACE_START: trace_dinofs_inodegc_start(dev); break;
	case DINOFS_TRACE_QUEUE:
		trace_dinofs_inodegc_queue(dev, ino, cpu, items); break;
	case DINOFS_TRACE_THROTTLE:
		trace_dinofs_inodegc_throttle(dev, ino, cpu, items); break;
	case DINOFS_TRACE_WORKER:
		trace_dinofs_inodegc_worker(dev, ino, cpu, items); break;
	case DINOFS_TRACE_CPU_DEAD:
		trace_dinofs_inodegc_cpu_dead(dev, ino, cpu, items); break;
	case DINOFS_TRACE_SHRINKER_SCAN:
		trace_dinofs_inodegc_shrinker_scan(dev, ino, cpu, items); break;
	case DINOFS_TRACE_INACTIVATING:
		trace_dinofs_inode_inactivating(dev, ino, cpu, items); break;
	}
}

/* --- [shim] rate-limited reports, the harness self-test -------------------- */

void dinofs_ratelimit_init(struct ratelimit_state *rs)
{
	ratelimit_default_init(rs);
}

void dinofs_corrupt(struct super_block *sb, struct ratelimit_state *rs,
		    const char *what, u64 where)
{
	static DEFINE_RATELIMIT_STATE(early_rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);

	if (__ratelimit(rs ? rs : &early_rs))
		pr_err("dinofs: %s: corrupt %s at %llu; run fsck.dinofs\n",
		       sb->s_id, what, where);
}

bool dinofs_selftest_splat(void)
{
	return selftest_splat;
}

void dinofs_selftest_warn(void)
{
	WARN(1, "dinofs: selftest_splat=1: deliberate warning so the test harness must fail\n");
}
