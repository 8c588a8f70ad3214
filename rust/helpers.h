/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dinofs C helpers: the one header shared by rust/helpers.c and the
 * module-local bindgen run (see Kbuild). Everything declared here is
 * callable from Rust as crate::bindings::dinofs_*().
 *
 * Keep this file small: it is for kernel APIs that are static inline or
 * macros (and so have no symbol Rust can call), for tables that must live in
 * static storage (operation tables, the file_system_type with its lockdep
 * keys), for the in-memory inode container and for module parameters.
 * Filesystem logic belongs in Rust; the dinofs_rs_*() callbacks the tables
 * point to are implemented in rust/vfs.rs.
 */
#ifndef DINOFS_HELPERS_H
#define DINOFS_HELPERS_H

#include <linux/buffer_head.h>
#include <linux/cpumask.h>
#include <linux/crc32c.h>
#include <linux/llist.h>
#include <linux/workqueue.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/mutex.h>
#include <linux/ratelimit_types.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/types.h>
#include "kernel_ext/shims.h"

/* Pointers held by an inode: 8 direct, single, double, triple indirect. */
#define DINOFS_MAP_SLOTS 11

/*
 * The in-memory inode: the VFS inode plus what dinofs keeps beside it.
 * Allocated from a slab cache in helpers.c; Rust reaches the fields through
 * the accessors in rust/vfs.rs only.
 */
struct dinofs_inode {
	/* Serialises block-map changes (allocation, truncate) and i_blocks. */
	struct mutex map_lock;
	/* Block map, mirrors the on-disk pointers. Under map_lock. */
	u32 map[DINOFS_MAP_SLOTS];
	/* Blocks owned (data + indirect). Under map_lock. */
	u32 blocks;
	/* Deferred inactivation: link on a per-CPU gc queue (the state is
	 * in the engine's gc index, rust/gc_index.rs). */
	struct llist_node gc_node;
	/* Blocks past EOF may be mapped (speculative preallocation). */
	bool prealloc;
	struct inode vfs_inode;
};

/* Module init/exit: the inode cache and the filesystem type. */
int dinofs_register_filesystem(void);
void dinofs_unregister_filesystem(void);

/* Inode container and inline helpers. */
struct dinofs_inode *dinofs_i(struct inode *inode);
void dinofs_map_lock(struct inode *inode);
void dinofs_map_unlock(struct inode *inode);
void dinofs_set_inode_ops(struct inode *inode);
void dinofs_i_size_write(struct inode *inode, loff_t size);
loff_t dinofs_i_size_read(const struct inode *inode);
struct timespec64 dinofs_inode_get_atime(struct inode *inode);
struct timespec64 dinofs_inode_get_mtime(struct inode *inode);
struct timespec64 dinofs_inode_get_ctime(struct inode *inode);
void dinofs_inode_set_times(struct inode *inode, s64 asec, u32 ansec, s64 msec,
			    u32 mnsec, s64 csec, u32 cnsec);
void dinofs_inode_touch_ctime(struct inode *inode);
void dinofs_inode_touch_mctime(struct inode *inode);
uid_t dinofs_i_uid_read(const struct inode *inode);
gid_t dinofs_i_gid_read(const struct inode *inode);
void dinofs_i_uid_write(struct inode *inode, uid_t uid);
void dinofs_i_gid_write(struct inode *inode, gid_t gid);
unsigned int dinofs_inode_nlink(const struct inode *inode);
void dinofs_mark_inode_dirty(struct inode *inode);
const u8 *dinofs_dentry_name(const struct dentry *dentry, u32 *len);
struct inode *dinofs_d_inode(const struct dentry *dentry);
u32 dinofs_encode_dev(dev_t dev);
dev_t dinofs_decode_dev(u32 dev);

/* Buffer heads. */
struct buffer_head *dinofs_sb_bread(struct super_block *sb, u64 block);
struct buffer_head *dinofs_sb_getblk_zero(struct super_block *sb, u64 block);
void dinofs_brelse(struct buffer_head *bh);
bool dinofs_buffer_verified(struct buffer_head *bh);
void dinofs_set_buffer_verified(struct buffer_head *bh);
void *dinofs_bh_data(struct buffer_head *bh);
void dinofs_lock_buffer(struct buffer_head *bh);
void dinofs_unlock_buffer(struct buffer_head *bh);
void dinofs_map_bh(struct buffer_head *bh, struct super_block *sb, u64 block);
void dinofs_set_buffer_new(struct buffer_head *bh);

/* Mount API. errorfc()/infof() are macros. */
void dinofs_fc_error(struct fs_context *fc, const char *msg);
int dinofs_fc_set_ops(struct fs_context *fc);
bool dinofs_fc_sb_rdonly(struct fs_context *fc);
int dinofs_fc_parse(struct fs_context *fc, struct fs_parameter *param,
		    u32 *result);
void dinofs_fc_set_private(struct fs_context *fc, void *data);
void *dinofs_fc_private(struct fs_context *fc);
void dinofs_sb_setup(struct super_block *sb, u64 maxbytes);
bool dinofs_sb_rdonly(struct super_block *sb);
u64 dinofs_sb_dev_blocks(struct super_block *sb);
/*
 * Metadata write errors: the block device's errseq (bd_mapping->wb_err),
 * where the buffer layer records every failed metadata write. The sample is
 * the raw value, so an error from before the mount is not reported to it.
 */
u32 dinofs_sb_meta_err_sample(struct super_block *sb);
int dinofs_sb_meta_err_check(struct super_block *sb, u32 since);
void dinofs_seq_puts(struct seq_file *m, const char *s);

/* Opening O_TMPFILE files; truncating through the page cache. */
int dinofs_finish_open_simple(struct file *file);
int dinofs_block_truncate_page(struct inode *inode, loff_t size);

/* Dentries and directory iteration. */
bool dinofs_dir_emit(struct dir_context *ctx, const u8 *name, int len, u64 ino,
		     unsigned int type);

/* The inode of a gc queue node (rust/vfs.rs, DeadInode). */
struct dinofs_inode *dinofs_i_of_gc_node(struct llist_node *node);
void dinofs_free_inode_rcu(struct inode *inode);
bool dinofs_sb_freezing_pagefault(struct super_block *sb);
bool dinofs_sb_frozen(struct super_block *sb);
bool dinofs_sb_unfrozen(struct super_block *sb);
struct dentry *dinofs_debugfs_mount(const char *dev, void *gc);
/* Debug knobs, by number (rust/inodegc.rs KNOB_*). */
enum {
	DINOFS_KNOB_FAIL_NEXT_FREEZE = 0,
	DINOFS_KNOB_SLOW_WORKER_US = 1,
	DINOFS_KNOB_FAIL_INACTIVATE = 2,
	DINOFS_KNOB_PUSH_HOLD = 3,
	DINOFS_KNOB_FOLD_DELAY_US = 4,
	DINOFS_KNOB_IGET_DELAY_US = 5,
	DINOFS_KNOB_ARM_DELAY_MS = 6,
	DINOFS_KNOB_TAKE_HOLD = 7,
};
void dinofs_debugfs_remove(struct dentry *dir);
int dinofs_seq_write(struct seq_file *m, const u8 *data, size_t len);

/* Tracepoints (rust/dinofs_trace.h, wrapped by rust/trace.rs). */
void dinofs_trace_gc(int event, dev_t dev, u64 ino, unsigned int cpu,
		     unsigned int items);
enum dinofs_trace_event {
	DINOFS_TRACE_FLUSH, DINOFS_TRACE_PUSH, DINOFS_TRACE_STOP,
	DINOFS_TRACE_START, DINOFS_TRACE_QUEUE, DINOFS_TRACE_THROTTLE,
	DINOFS_TRACE_WORKER, DINOFS_TRACE_CPU_DEAD,
	DINOFS_TRACE_SHRINKER_SCAN, DINOFS_TRACE_INACTIVATING,
};
dev_t dinofs_sb_dev(struct super_block *sb);

/*
 * The filesystem shutdown ioctl. FS_IOC_SHUTDOWN is not in this kernel's
 * uapi headers; the number is the one every filesystem uses for it
 * (XFS_IOC_GOINGDOWN, EXT4_IOC_SHUTDOWN, F2FS_IOC_SHUTDOWN), so xfs_io's
 * "shutdown" command and fstests' src/godown work unchanged. The argument
 * is a __u32 of flags, with XFS's values.
 */
#define DINOFS_IOC_SHUTDOWN		_IOR('X', 125, __u32)
#define DINOFS_SHUTDOWN_DEFAULT		0	/* write everything, then shut down */
#define DINOFS_SHUTDOWN_LOGFLUSH	1	/* dinofs has no log: as DEFAULT */
#define DINOFS_SHUTDOWN_NOLOGFLUSH	2	/* shut down now, write nothing */

/* Freezing the filesystem through its block device (shutdown), s_umount. */
int dinofs_sb_bdev_freeze(struct super_block *sb);
void dinofs_sb_bdev_thaw(struct super_block *sb);
void dinofs_sb_umount_read_lock(struct super_block *sb);
void dinofs_sb_umount_read_unlock(struct super_block *sb);

/* Harness self-test switch (module parameter selftest_splat). */
bool dinofs_selftest_splat(void);
void dinofs_selftest_warn(void);

/*
 * Rate-limited error reporting for corrupt metadata: rs is the mount's own
 * limit (so one damaged filesystem cannot silence reports about another), or
 * NULL before the mount has one, which uses a module-wide limit.
 */
void dinofs_ratelimit_init(struct ratelimit_state *rs);
void dinofs_corrupt(struct super_block *sb, struct ratelimit_state *rs,
		    const char *what, u64 where);

/*
 * Implemented in Rust (rust/vfs.rs), referenced by the tables in helpers.c;
 * bindgen skips these (--blocklist-function 'dinofs_rs_.*').
 */
int dinofs_rs_init_fs_context(struct fs_context *fc);
int dinofs_rs_get_tree(struct fs_context *fc);
int dinofs_rs_parse_param(struct fs_context *fc, struct fs_parameter *param);
int dinofs_rs_reconfigure(struct fs_context *fc);
void dinofs_rs_free_fc(struct fs_context *fc);
int dinofs_rs_get_block(struct inode *inode, sector_t iblock,
			struct buffer_head *bh, int create);
void dinofs_rs_write_failed(struct inode *inode);
int dinofs_rs_write_inode(struct inode *inode, struct writeback_control *wbc);
void dinofs_rs_evict_inode(struct inode *inode);
void dinofs_rs_put_super(struct super_block *sb);
int dinofs_rs_sync_fs(struct super_block *sb, int wait);
int dinofs_rs_statfs(struct dentry *dentry, struct kstatfs *buf);
int dinofs_rs_show_options(struct seq_file *m, struct dentry *root);
struct dentry *dinofs_rs_lookup(struct inode *dir, struct dentry *dentry,
				unsigned int flags);
int dinofs_rs_create(struct mnt_idmap *idmap, struct inode *dir,
		     struct dentry *dentry, umode_t mode, bool excl);
int dinofs_rs_mknod(struct mnt_idmap *idmap, struct inode *dir,
		    struct dentry *dentry, umode_t mode, dev_t rdev);
int dinofs_rs_mkdir(struct mnt_idmap *idmap, struct inode *dir,
		    struct dentry *dentry, umode_t mode);
int dinofs_rs_symlink(struct mnt_idmap *idmap, struct inode *dir,
		      struct dentry *dentry, const char *target);
int dinofs_rs_tmpfile(struct mnt_idmap *idmap, struct inode *dir,
		      struct file *file, umode_t mode);
int dinofs_rs_link(struct dentry *old, struct inode *dir, struct dentry *dentry);
int dinofs_rs_unlink(struct inode *dir, struct dentry *dentry);
int dinofs_rs_rmdir(struct inode *dir, struct dentry *dentry);
int dinofs_rs_rename(struct mnt_idmap *idmap, struct inode *old_dir,
		     struct dentry *old_dentry, struct inode *new_dir,
		     struct dentry *new_dentry, unsigned int flags);
int dinofs_rs_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		      struct iattr *attr);
int dinofs_rs_iterate_shared(struct file *file, struct dir_context *ctx);
void dinofs_rs_destroy_inode(struct inode *inode);
int dinofs_rs_shutdown(struct super_block *sb, u32 flags);
bool dinofs_rs_is_shutdown(struct super_block *sb);
int dinofs_rs_freeze_super(struct super_block *sb, enum freeze_holder who);
int dinofs_rs_freeze_fs(struct super_block *sb);
int dinofs_rs_unfreeze_fs(struct super_block *sb);
int dinofs_rs_gc_show(struct seq_file *m, void *gc);
u64 dinofs_rs_gc_knob_get(void *gc, unsigned int knob);
int dinofs_rs_gc_knob_set(void *gc, unsigned int knob, u64 value);

#endif /* DINOFS_HELPERS_H */
