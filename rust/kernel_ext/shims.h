/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C shims for rust/kernel_ext/: each wraps a static inline function or a
 * macro that Rust cannot call (get_cpu(), llist_add(), INIT_DELAYED_WORK(),
 * alloc_workqueue(), cpuhp_setup_state_multi(), ...). No logic; nothing
 * here knows dinofs. Read by the bindgen run of the module that compiles
 * kernel_ext/.
 */
#ifndef KX_SHIMS_H
#define KX_SHIMS_H

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/llist.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct hlist_node;
struct dentry;
struct seq_file;

/*
 * One debugfs file's private data (rust/kernel_ext/debugfs.rs): the Rust
 * owner and the callbacks for it. show is set for the text file, get/set
 * for a knob file.
 */
struct kx_debugfs_file {
	const void *owner;
	unsigned int id;
	int (*show)(struct seq_file *m, const struct kx_debugfs_file *f);
	u64 (*get)(const struct kx_debugfs_file *f);
	int (*set)(const struct kx_debugfs_file *f, u64 val);
};

void __percpu *kx_alloc_percpu(size_t size, size_t align);
void kx_free_percpu(void __percpu *p);
void *kx_per_cpu_ptr(void __percpu *p, unsigned int cpu);
unsigned int kx_get_cpu(void);
void kx_put_cpu(void);
unsigned int kx_smp_processor_id(void);
bool kx_cpu_active(unsigned int cpu);
unsigned int kx_nr_cpu_ids(void);
bool kx_cpu_possible(unsigned int cpu);
bool kx_llist_add(struct llist_node *node, struct llist_head *head);
struct llist_node *kx_llist_del_all(struct llist_head *head);
bool kx_llist_empty(const struct llist_head *head);
void kx_init_delayed_work(struct delayed_work *dw, work_func_t fn);
bool kx_delayed_work_armed(struct delayed_work *dw);
struct workqueue_struct *kx_alloc_bound_workqueue(const char *prefix,
						  const char *id, int max_active,
						  bool mem_reclaim, bool freezable);
void kx_flush_workqueue(struct workqueue_struct *wq);
struct cpumask *kx_alloc_cpumask(void);
void kx_free_cpumask(struct cpumask *mask);
void kx_cpumask_set(unsigned int cpu, struct cpumask *mask);
void kx_cpumask_clear(unsigned int cpu, struct cpumask *mask);
bool kx_cpumask_test(unsigned int cpu, const struct cpumask *mask);
void kx_smp_mb__after_atomic(void);
unsigned int kx_memalloc_nofs_save(void);
void kx_memalloc_nofs_restore(unsigned int flags);
bool kx_current_is_nofs(void);
int kx_cpuhp_setup_multi(const char *name,
			 int (*teardown)(unsigned int cpu, struct hlist_node *node));
void kx_udelay(u32 us);
void kx_usleep(u32 us);
struct dentry *kx_debugfs_create_dir(const char *parent, const char *name);
void kx_debugfs_create_show(const char *name, struct dentry *dir,
			    struct kx_debugfs_file *f);
void kx_debugfs_create_knob(const char *name, struct dentry *dir,
			    struct kx_debugfs_file *f);

#endif /* KX_SHIMS_H */
