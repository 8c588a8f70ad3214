// SPDX-License-Identifier: GPL-2.0
/*
 * dinofs C helpers: thin shims over inline/macro kernel APIs, the static
 * operation tables and file_system_type, the inode slab cache, module
 * parameters and debugfs knob files. See helpers.h. Filesystem callbacks
 * are dinofs_rs_*() functions in Rust.
 */
#include <linux/blkdev.h>
#include <linux/bug.h>
#include <linux/capability.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/buffer_head.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/fs_types.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/mpage.h>
#include <linux/namei.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "helpers.h"

#define CREATE_TRACE_POINTS
#include "dinofs_trace.h"

static bool selftest_splat;
module_param(selftest_splat, bool, 0444);
MODULE_PARM_DESC(selftest_splat,
		 "Test-harness self-test: WARN once at load so 'make check' must fail (default: off)");

/* The debugfs root, per module. */
static struct dentry *dinofs_debugfs_root;

/* --- the inode cache ------------------------------------------------------ */

static struct kmem_cache *dinofs_inode_cachep;

static void dinofs_inode_init_once(void *obj)
{
	struct dinofs_inode *di = obj;

	mutex_init(&di->map_lock);
	inode_init_once(&di->vfs_inode);
}

static struct inode *dinofs_alloc_inode(struct super_block *sb)
{
	struct dinofs_inode *di;

	di = alloc_inode_sb(sb, dinofs_inode_cachep, GFP_KERNEL);
	if (!di)
		return NULL;
	memset(di->map, 0, sizeof(di->map));
	di->blocks = 0;
	di->prealloc = false;
	return &di->vfs_inode;
}

static void dinofs_free_inode_cb(struct rcu_head *head)
{
	struct inode *inode = container_of(head, struct inode, i_rcu);

	kmem_cache_free(dinofs_inode_cachep, dinofs_i(inode));
}

/*
 * dinofs has ->destroy_inode and no ->free_inode, so the VFS hands the inode
 * memory to us (rust/inodegc.rs may keep it queued for inactivation). It is
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

void dinofs_map_lock(struct inode *inode)
{
	mutex_lock(&dinofs_i(inode)->map_lock);
}

void dinofs_map_unlock(struct inode *inode)
{
	mutex_unlock(&dinofs_i(inode)->map_lock);
}

/* --- operation tables ----------------------------------------------------- */

static int dinofs_read_folio(struct file *file, struct folio *folio)
{
	return block_read_full_folio(folio, dinofs_rs_get_block);
}

static void dinofs_readahead(struct readahead_control *rac)
{
	mpage_readahead(rac, dinofs_rs_get_block);
}

static int dinofs_writepages(struct address_space *mapping,
			     struct writeback_control *wbc)
{
	/*
	 * After a shutdown nothing reaches the disk: dirty pages stay dirty
	 * until eviction drops them (as ext4 does).
	 */
	if (unlikely(dinofs_rs_is_shutdown(mapping->host->i_sb)))
		return -EIO;
	return mpage_writepages(mapping, wbc, dinofs_rs_get_block);
}

static void dinofs_write_failed(struct address_space *mapping, loff_t to)
{
	struct inode *inode = mapping->host;

	/*
	 * Drop page cache past EOF that a failed write instantiated; blocks
	 * get_block allocated for it stay mapped past EOF and are marked for
	 * trimming.
	 */
	if (to > inode->i_size) {
		truncate_pagecache(inode, inode->i_size);
		dinofs_rs_write_failed(inode);
	}
}

static int dinofs_write_begin(struct file *file, struct address_space *mapping,
			      loff_t pos, unsigned int len,
			      struct folio **foliop, void **fsdata)
{
	int ret = block_write_begin(mapping, pos, len, foliop,
				    dinofs_rs_get_block);

	if (unlikely(ret))
		dinofs_write_failed(mapping, pos + len);
	return ret;
}

static sector_t dinofs_bmap(struct address_space *mapping, sector_t block)
{
	return generic_block_bmap(mapping, block, dinofs_rs_get_block);
}

static const struct address_space_operations dinofs_aops = {
	.dirty_folio	  = block_dirty_folio,
	.invalidate_folio = block_invalidate_folio,
	.read_folio	  = dinofs_read_folio,
	.readahead	  = dinofs_readahead,
	.writepages	  = dinofs_writepages,
	.write_begin	  = dinofs_write_begin,
	.write_end	  = generic_write_end,
	.bmap		  = dinofs_bmap,
	.migrate_folio	  = buffer_migrate_folio,
	.is_partially_uptodate = block_is_partially_uptodate,
	.error_remove_folio = generic_error_remove_folio,
};

/*
 * FS_IOC_SHUTDOWN (see helpers.h), on files and directories alike: fstests'
 * godown and xfs_io open the mount point. Copying the flags in and the
 * capability check are here; what shutdown does is dinofs_rs_shutdown().
 */
static long dinofs_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	u32 flags;

	switch (cmd) {
	case DINOFS_IOC_SHUTDOWN:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (get_user(flags, (u32 __user *)arg))
			return -EFAULT;
		return dinofs_rs_shutdown(sb, flags);
	default:
		return -ENOTTY;
	}
}

/*
 * File I/O entry points: after a shutdown every one fails with EIO, cached
 * or not (as XFS and ext4 do); otherwise the generic helpers do the work.
 */
static inline bool dinofs_file_shutdown(struct file *file)
{
	return unlikely(dinofs_rs_is_shutdown(file_inode(file)->i_sb));
}

static ssize_t dinofs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	if (dinofs_file_shutdown(iocb->ki_filp))
		return -EIO;
	return generic_file_read_iter(iocb, to);
}

static ssize_t dinofs_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	if (dinofs_file_shutdown(iocb->ki_filp))
		return -EIO;
	return generic_file_write_iter(iocb, from);
}

static ssize_t dinofs_file_splice_read(struct file *in, loff_t *ppos,
				       struct pipe_inode_info *pipe,
				       size_t len, unsigned int flags)
{
	if (dinofs_file_shutdown(in))
		return -EIO;
	return filemap_splice_read(in, ppos, pipe, len, flags);
}

static int dinofs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (dinofs_file_shutdown(file))
		return -EIO;
	return generic_file_mmap(file, vma);
}

static int dinofs_file_open(struct inode *inode, struct file *file)
{
	if (unlikely(dinofs_rs_is_shutdown(inode->i_sb)))
		return -EIO;
	return generic_file_open(inode, file);
}

static int dinofs_fsync(struct file *file, loff_t start, loff_t end,
			int datasync)
{
	if (dinofs_file_shutdown(file))
		return -EIO;
	return generic_file_fsync(file, start, end, datasync);
}

static const struct file_operations dinofs_file_fops = {
	.llseek		= generic_file_llseek,
	.read_iter	= dinofs_file_read_iter,
	.write_iter	= dinofs_file_write_iter,
	.mmap		= dinofs_file_mmap,
	.open		= dinofs_file_open,
	.fsync		= dinofs_fsync,
	.splice_read	= dinofs_file_splice_read,
	.splice_write	= iter_file_splice_write,
	.unlocked_ioctl	= dinofs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static const struct inode_operations dinofs_file_iops = {
	.setattr	= dinofs_rs_setattr,
};

static const struct file_operations dinofs_dir_fops = {
	.llseek		= generic_file_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= dinofs_rs_iterate_shared,
	.fsync		= dinofs_fsync,
	.unlocked_ioctl	= dinofs_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static const struct inode_operations dinofs_dir_iops = {
	.lookup		= dinofs_rs_lookup,
	.create		= dinofs_rs_create,
	.link		= dinofs_rs_link,
	.unlink		= dinofs_rs_unlink,
	.symlink	= dinofs_rs_symlink,
	.mkdir		= dinofs_rs_mkdir,
	.rmdir		= dinofs_rs_rmdir,
	.mknod		= dinofs_rs_mknod,
	.rename		= dinofs_rs_rename,
	.tmpfile	= dinofs_rs_tmpfile,
	.setattr	= dinofs_rs_setattr,
};

static const struct inode_operations dinofs_symlink_iops = {
	.get_link	= page_get_link,
	.setattr	= dinofs_rs_setattr,
};

static const struct inode_operations dinofs_special_iops = {
	.setattr	= dinofs_rs_setattr,
};

/* Installs the operation tables matching inode->i_mode. */
void dinofs_set_inode_ops(struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &dinofs_file_iops;
		inode->i_fop = &dinofs_file_fops;
		inode->i_mapping->a_ops = &dinofs_aops;
		break;
	case S_IFDIR:
		inode->i_op = &dinofs_dir_iops;
		inode->i_fop = &dinofs_dir_fops;
		inode->i_mapping->a_ops = &dinofs_aops;
		break;
	case S_IFLNK:
		inode->i_op = &dinofs_symlink_iops;
		inode_nohighmem(inode);
		inode->i_mapping->a_ops = &dinofs_aops;
		break;
	default:
		inode->i_op = &dinofs_special_iops;
		init_special_inode(inode, inode->i_mode, inode->i_rdev);
		break;
	}
}

static const struct super_operations dinofs_super_ops = {
	.alloc_inode	= dinofs_alloc_inode,
	.destroy_inode	= dinofs_rs_destroy_inode,
	.write_inode	= dinofs_rs_write_inode,
	.evict_inode	= dinofs_rs_evict_inode,
	.put_super	= dinofs_rs_put_super,
	.sync_fs	= dinofs_rs_sync_fs,
	.statfs		= dinofs_rs_statfs,
	.show_options	= dinofs_rs_show_options,
	.freeze_super	= dinofs_rs_freeze_super,
	.freeze_fs	= dinofs_rs_freeze_fs,
	.unfreeze_fs	= dinofs_rs_unfreeze_fs,
};

/* --- the mount API -------------------------------------------------------- */

/* Mount options; the values are the u32 dinofs_fc_parse() hands to Rust. */
enum { DINOFS_OPT_INODEGC, DINOFS_OPT_ERRORS };

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

static const struct fs_context_operations dinofs_context_ops = {
	.parse_param	= dinofs_rs_parse_param,
	.get_tree	= dinofs_rs_get_tree,
	.reconfigure	= dinofs_rs_reconfigure,
	.free		= dinofs_rs_free_fc,
};

int dinofs_fc_set_ops(struct fs_context *fc)
{
	fc->ops = &dinofs_context_ops;
	return 0;
}

bool dinofs_fc_sb_rdonly(struct fs_context *fc)
{
	return fc->sb_flags & SB_RDONLY;
}

void dinofs_fc_set_private(struct fs_context *fc, void *data)
{
	fc->fs_private = data;
}

void *dinofs_fc_private(struct fs_context *fc)
{
	return fc->fs_private;
}

void dinofs_fc_error(struct fs_context *fc, const char *msg)
{
	errorfc(fc, "%s", msg);
}

/* Sets the superblock fields every dinofs mount has. */
void dinofs_sb_setup(struct super_block *sb, u64 maxbytes)
{
	sb->s_op = &dinofs_super_ops;
	sb->s_maxbytes = maxbytes;
	sb->s_time_gran = 1;
	sb->s_time_min = S64_MIN;
	sb->s_time_max = S64_MAX;
}

bool dinofs_sb_rdonly(struct super_block *sb)
{
	return sb_rdonly(sb);
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

void dinofs_seq_puts(struct seq_file *m, const char *s)
{
	seq_puts(m, s);
}

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
	.parameters	 = dinofs_param_specs,
};
MODULE_ALIAS_FS("dinofs");

int dinofs_register_filesystem(void)
{
	int err;

	dinofs_debugfs_root = debugfs_create_dir("dinofs", NULL);
	dinofs_inode_cachep = kmem_cache_create("dinofs_inode",
			sizeof(struct dinofs_inode), 0,
			SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
			dinofs_inode_init_once);
	if (!dinofs_inode_cachep) {
		err = -ENOMEM;
		goto out_debugfs;
	}
	err = register_filesystem(&dinofs_fs_type);
	if (err)
		goto out_cache;
	return 0;
out_cache:
	kmem_cache_destroy(dinofs_inode_cachep);
out_debugfs:
	debugfs_remove(dinofs_debugfs_root);
	return err;
}

void dinofs_unregister_filesystem(void)
{
	unregister_filesystem(&dinofs_fs_type);
	debugfs_remove(dinofs_debugfs_root);
	/* Inodes are freed after an RCU grace period (free_inode). */
	rcu_barrier();
	kmem_cache_destroy(dinofs_inode_cachep);
}

/* --- inline helpers --------------------------------------------------------- */

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

void dinofs_inode_touch_ctime(struct inode *inode)
{
	inode_set_ctime_current(inode);
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

unsigned int dinofs_inode_nlink(const struct inode *inode)
{
	return inode->i_nlink;
}

void dinofs_mark_inode_dirty(struct inode *inode)
{
	mark_inode_dirty(inode);
}

const u8 *dinofs_dentry_name(const struct dentry *dentry, u32 *len)
{
	*len = dentry->d_name.len;
	return dentry->d_name.name;
}

struct inode *dinofs_d_inode(const struct dentry *dentry)
{
	return d_inode(dentry);
}

u32 dinofs_encode_dev(dev_t dev)
{
	return new_encode_dev(dev);
}

dev_t dinofs_decode_dev(u32 dev)
{
	return new_decode_dev(dev);
}

/*
 * BH_DinofsVerified: the block's checksum was verified since it was last
 * read from disk. Metadata is verified once per read, not on every use;
 * dinofs reseals every block it changes, so the bit stays true.
 */
enum { BH_DinofsVerified = BH_PrivateStart };
BUFFER_FNS(DinofsVerified, dinofs_verified)

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

bool dinofs_buffer_verified(struct buffer_head *bh)
{
	return buffer_dinofs_verified(bh);
}

void dinofs_set_buffer_verified(struct buffer_head *bh)
{
	set_buffer_dinofs_verified(bh);
}

/* A buffer for a block about to be overwritten whole: zeroed, uptodate. */
struct buffer_head *dinofs_sb_getblk_zero(struct super_block *sb, u64 block)
{
	struct buffer_head *bh = sb_getblk(sb, block);

	if (!bh)
		return NULL;
	lock_buffer(bh);
	memset(bh->b_data, 0, bh->b_size);
	clear_buffer_dinofs_verified(bh);
	set_buffer_uptodate(bh);
	unlock_buffer(bh);
	return bh;
}

void dinofs_brelse(struct buffer_head *bh)
{
	brelse(bh);
}

void *dinofs_bh_data(struct buffer_head *bh)
{
	return bh->b_data;
}

void dinofs_lock_buffer(struct buffer_head *bh)
{
	lock_buffer(bh);
}

void dinofs_unlock_buffer(struct buffer_head *bh)
{
	unlock_buffer(bh);
}

void dinofs_map_bh(struct buffer_head *bh, struct super_block *sb, u64 block)
{
	map_bh(bh, sb, block);
}

void dinofs_set_buffer_new(struct buffer_head *bh)
{
	set_buffer_new(bh);
}

int dinofs_finish_open_simple(struct file *file)
{
	return finish_open_simple(file, 0);
}

int dinofs_block_truncate_page(struct inode *inode, loff_t size)
{
	return block_truncate_page(inode->i_mapping, size, dinofs_rs_get_block);
}

bool dinofs_dir_emit(struct dir_context *ctx, const u8 *name, int len, u64 ino,
		     unsigned int type)
{
	/* The on-disk type is an FT_* value (fs_ftype.h); readdir wants DT_*. */
	return dir_emit(ctx, name, len, ino, fs_ftype_to_dtype(type));
}

struct dinofs_inode *dinofs_i_of_gc_node(struct llist_node *node)
{
	return container_of(node, struct dinofs_inode, gc_node);
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

/*
 * Freezes the filesystem the way FIFREEZE on the block device would: through
 * the holder ops (freeze_super(), which syncs everything and stops gc via
 * ->sync_fs). Shutdown uses it to reach a quiescent, fully written image.
 */
int dinofs_sb_bdev_freeze(struct super_block *sb)
{
	return bdev_freeze(sb->s_bdev);
}

void dinofs_sb_bdev_thaw(struct super_block *sb)
{
	bdev_thaw(sb->s_bdev);
}

/* s_umount shared, as syncfs(2) takes it: serialises gc stop/start. */
void dinofs_sb_umount_read_lock(struct super_block *sb)
{
	down_read(&sb->s_umount);
}

void dinofs_sb_umount_read_unlock(struct super_block *sb)
{
	up_read(&sb->s_umount);
}

/* --- debugfs: /sys/kernel/debug/dinofs/<dev>/ ----------------------------- */

static int dinofs_gc_show(struct seq_file *m, void *v)
{
	return dinofs_rs_gc_show(m, m->private);
}
DEFINE_SHOW_ATTRIBUTE(dinofs_gc);

/*
 * The debug knobs (rust/inodegc.rs, InodeGc::knob/set_knob): one file each,
 * reading and writing a number through Rust, which keeps the values in
 * atomics. DEFINE_DEBUGFS_ATTRIBUTE makes removal wait for running reads
 * and writes, so the engine outlives every access.
 */
#define DINOFS_KNOB(name, id)						\
static int dinofs_knob_##name##_get(void *gc, u64 *val)			\
{									\
	*val = dinofs_rs_gc_knob_get(gc, id);				\
	return 0;							\
}									\
static int dinofs_knob_##name##_set(void *gc, u64 val)			\
{									\
	return dinofs_rs_gc_knob_set(gc, id, val);			\
}									\
DEFINE_DEBUGFS_ATTRIBUTE(dinofs_knob_##name##_fops,			\
			 dinofs_knob_##name##_get,			\
			 dinofs_knob_##name##_set, "%llu\n")

DINOFS_KNOB(fail_next_freeze, DINOFS_KNOB_FAIL_NEXT_FREEZE);
DINOFS_KNOB(slow_worker_us, DINOFS_KNOB_SLOW_WORKER_US);
DINOFS_KNOB(fail_inactivate, DINOFS_KNOB_FAIL_INACTIVATE);
DINOFS_KNOB(push_hold, DINOFS_KNOB_PUSH_HOLD);
DINOFS_KNOB(fold_delay_us, DINOFS_KNOB_FOLD_DELAY_US);
DINOFS_KNOB(iget_delay_us, DINOFS_KNOB_IGET_DELAY_US);
DINOFS_KNOB(arm_delay_ms, DINOFS_KNOB_ARM_DELAY_MS);
DINOFS_KNOB(take_hold, DINOFS_KNOB_TAKE_HOLD);

#define DINOFS_KNOB_FILE(name) { #name, &dinofs_knob_##name##_fops }
static const struct {
	const char *name;
	const struct file_operations *fops;
} dinofs_knob_files[] = {
	DINOFS_KNOB_FILE(fail_next_freeze),
	DINOFS_KNOB_FILE(slow_worker_us),
	DINOFS_KNOB_FILE(fail_inactivate),
	DINOFS_KNOB_FILE(push_hold),
	DINOFS_KNOB_FILE(fold_delay_us),
	DINOFS_KNOB_FILE(iget_delay_us),
	DINOFS_KNOB_FILE(arm_delay_ms),
	DINOFS_KNOB_FILE(take_hold),
};

/*
 * Per-mount directory: "inodegc" (engine statistics, rust/inodegc.rs) and
 * the knobs: "fail_next_freeze" (write 1: the next freeze_fs fails, to test
 * that a failed freeze restarts gc), "slow_worker_us" (the worker sleeps
 * this long per inode, to test the throttle against a slow worker) and
 * "fail_inactivate" (the next N inactivations fail with EIO before touching
 * the disk, to test that worker errors reach their callers), and the race
 * wideners "push_hold", "take_hold" (gates), "fold_delay_us",
 * "iget_delay_us" and "arm_delay_ms" (see rust/inodegc.rs).
 * debugfs_remove() waits for readers, so the engine outlives every read.
 */
struct dentry *dinofs_debugfs_mount(const char *dev, void *gc)
{
	struct dentry *dir;
	size_t i;

	if (IS_ERR_OR_NULL(dinofs_debugfs_root))
		return NULL;
	dir = debugfs_create_dir(dev, dinofs_debugfs_root);
	if (IS_ERR(dir))
		return NULL;
	debugfs_create_file("inodegc", 0444, dir, gc, &dinofs_gc_fops);
	for (i = 0; i < ARRAY_SIZE(dinofs_knob_files); i++)
		debugfs_create_file_unsafe(dinofs_knob_files[i].name, 0644, dir,
					   gc, dinofs_knob_files[i].fops);
	return dir;
}

void dinofs_debugfs_remove(struct dentry *dir)
{
	debugfs_remove(dir);
}

int dinofs_seq_write(struct seq_file *m, const u8 *data, size_t len)
{
	return seq_write(m, data, len);
}

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

dev_t dinofs_sb_dev(struct super_block *sb)
{
	return sb->s_dev;
}

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
