/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dinofs C helpers: the one header shared by rust/helpers.c and the
 * module-local bindgen run (see Kbuild). Everything declared here is
 * callable from Rust as crate::bindings::dinofs_*(), and only from the
 * unsafe-holding layers (rust/vfs/, rust/trace.rs).
 *
 * It is for kernel APIs that are static inline or macros (and so have no
 * symbol Rust can call), for what must live in static storage in C (the
 * file_system_type with its lockdep keys, the mount-option table, the
 * tracepoint definitions), for the in-memory inode container and its slab
 * cache, and for module parameters. The operation tables are built in Rust
 * (rust/vfs/ops.rs).
 */
#ifndef DINOFS_HELPERS_H
#define DINOFS_HELPERS_H

#include <linux/buffer_head.h>
#include <linux/cpumask.h>
#include <linux/crc32c.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/workqueue.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/jbd2.h>
#include <linux/mutex.h>
#include <linux/ratelimit_types.h>
#include <linux/seq_file.h>
#include <linux/mpage.h>
#include <linux/statfs.h>
#include <linux/types.h>
#include "kernel_ext/shims.h"

/* The words of per-inode filesystem data (rust/vfs: FileSystem::InodeData). */
#define DINOFS_INODE_DATA_WORDS 8

/*
 * The in-memory inode: the VFS inode plus what the filesystem keeps beside
 * it. Allocated from a slab cache in helpers.c; Rust reaches the fields
 * through rust/vfs/inode.rs only.
 */
struct dinofs_inode {
	/* Serialises the filesystem's data (dinofs: block map, i_blocks). */
	struct mutex data_lock;
	/* FileSystem::InodeData, written by the alloc_inode trampoline. */
	u64 fs_data[DINOFS_INODE_DATA_WORDS];
	/* Link on a deferred-inactivation queue (rust/vfs: DeadInode). */
	struct llist_node gc_node;
	struct inode vfs_inode;
};

/* Module init/exit: the inode cache and the filesystem type. */
int dinofs_register_filesystem(int (*init_fs_context)(struct fs_context *fc));
void dinofs_unregister_filesystem(void);

/* The inode container and its cache. */
struct inode *dinofs_alloc_inode(struct super_block *sb);
void dinofs_free_inode_rcu(struct inode *inode);
struct dinofs_inode *dinofs_i(struct inode *inode);
struct dinofs_inode *dinofs_i_of_gc_node(struct llist_node *node);
void dinofs_data_lock(struct inode *inode);
void dinofs_data_unlock(struct inode *inode);

/* Inline inode helpers. */
void dinofs_inode_set_ops(struct inode *inode,
			  const struct inode_operations *iop,
			  const struct file_operations *fop,
			  const struct address_space_operations *aops);
void dinofs_i_size_write(struct inode *inode, loff_t size);
loff_t dinofs_i_size_read(const struct inode *inode);
struct timespec64 dinofs_inode_get_atime(struct inode *inode);
struct timespec64 dinofs_inode_get_mtime(struct inode *inode);
struct timespec64 dinofs_inode_get_ctime(struct inode *inode);
void dinofs_inode_set_times(struct inode *inode, s64 asec, u32 ansec, s64 msec,
			    u32 mnsec, s64 csec, u32 cnsec);
void dinofs_inode_touch_mctime(struct inode *inode);
uid_t dinofs_i_uid_read(const struct inode *inode);
gid_t dinofs_i_gid_read(const struct inode *inode);
void dinofs_i_uid_write(struct inode *inode, uid_t uid);
void dinofs_i_gid_write(struct inode *inode, gid_t gid);
const u8 *dinofs_dentry_name(const struct dentry *dentry, u32 *len);

/* Buffer heads. */
struct buffer_head *dinofs_sb_bread(struct super_block *sb, u64 block);
void dinofs_sb_breadahead(struct super_block *sb, u64 block);
bool dinofs_buffer_verified(struct buffer_head *bh);
bool dinofs_buffer_journaled(struct buffer_head *bh);
void dinofs_set_buffer_verified(struct buffer_head *bh);
void dinofs_lock_buffer(struct buffer_head *bh);
void dinofs_map_bh(struct buffer_head *bh, struct super_block *sb, u64 block);
void dinofs_set_buffer_new(struct buffer_head *bh);

/* jbd2 (rust/vfs/journal.rs): init with the barrier flag, superblock reads. */
journal_t *dinofs_journal_init(struct super_block *sb, u64 start, int len,
			       int *err);
bool dinofs_journal_needs_recovery(journal_t *journal);
handle_t *dinofs_journal_start(journal_t *journal, int credits, int revokes,
			       int *err);
int dinofs_journal_max_credits(journal_t *journal);
int dinofs_journal_revoke_blocks(journal_t *journal, int revokes);
bool dinofs_journal_in_handle(journal_t *journal);
bool dinofs_journal_handle_tid(journal_t *journal, u32 *tid);
bool dinofs_journal_committed(journal_t *journal, u32 tid);
int dinofs_journal_complete(journal_t *journal, u32 tid);
void dinofs_journal_set_commit_interval(journal_t *journal, unsigned int secs);
void dinofs_journal_forgive_write_errors(journal_t *journal);
bool dinofs_journal_aborted(journal_t *journal);
int dinofs_journal_commit(journal_t *journal);
int dinofs_journal_get_write_access(journal_t *journal, struct buffer_head *bh);
int dinofs_journal_dirty_metadata(journal_t *journal, struct buffer_head *bh);
struct buffer_head *dinofs_journal_getblk_create(journal_t *journal,
						 struct super_block *sb,
						 u64 block, int *err);
int dinofs_journal_revoke(journal_t *journal, struct super_block *sb, u64 block);
void dinofs_sb_start_intwrite(struct super_block *sb);
void dinofs_sb_end_intwrite(struct super_block *sb);
void dinofs_sb_start_pagefault(struct super_block *sb);
void dinofs_sb_end_pagefault(struct super_block *sb);
vm_fault_t dinofs_vmf_fs_error(int err);

/* Mount API: errorfc() is a macro; the option table is static C. */
void dinofs_fc_error(struct fs_context *fc, const char *msg);
int dinofs_fc_parse(struct fs_context *fc, struct fs_parameter *param,
		    u32 *result);
u64 dinofs_sb_dev_blocks(struct super_block *sb);
/*
 * Metadata write errors: the block device's errseq (bd_mapping->wb_err),
 * where the buffer layer records every failed metadata write. The sample is
 * the raw value, so an error from before the mount is not reported to it.
 */
u32 dinofs_sb_meta_err_sample(struct super_block *sb);
int dinofs_sb_meta_err_check(struct super_block *sb, u32 since);

/* Directory iteration. */
bool dinofs_dir_emit(struct dir_context *ctx, const u8 *name, int len, u64 ino,
		     unsigned int type);

/* Freeze levels. */
bool dinofs_sb_freezing_pagefault(struct super_block *sb);
bool dinofs_sb_frozen(struct super_block *sb);
bool dinofs_sb_unfrozen(struct super_block *sb);
/* Tracepoints (rust/dinofs_trace.h, wrapped by rust/trace.rs). */
void dinofs_trace_gc(int event, dev_t dev, u64 ino, unsigned int cpu,
		     unsigned int items);
enum dinofs_trace_event {
	DINOFS_TRACE_FLUSH, DINOFS_TRACE_PUSH, DINOFS_TRACE_STOP,
	DINOFS_TRACE_START, DINOFS_TRACE_QUEUE, DINOFS_TRACE_THROTTLE,
	DINOFS_TRACE_WORKER, DINOFS_TRACE_CPU_DEAD,
	DINOFS_TRACE_SHRINKER_SCAN, DINOFS_TRACE_INACTIVATING,
};

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

#endif /* DINOFS_HELPERS_H */
