// SPDX-License-Identifier: GPL-2.0
/*
 * C shims for rust/kernel_ext/ (see shims.h): one kind only, wrappers of
 * static inline functions and macros.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "shims.h"

void __percpu *kx_alloc_percpu(size_t size, size_t align)
{
	return __alloc_percpu_gfp(size, align, GFP_KERNEL);
}

void kx_free_percpu(void __percpu *p)
{
	free_percpu(p);
}

void *kx_per_cpu_ptr(void __percpu *p, unsigned int cpu)
{
	return per_cpu_ptr(p, cpu);
}

unsigned int kx_get_cpu(void)
{
	return get_cpu();
}

void kx_put_cpu(void)
{
	put_cpu();
}

unsigned int kx_smp_processor_id(void)
{
	return raw_smp_processor_id();
}

bool kx_cpu_active(unsigned int cpu)
{
	return cpu_active(cpu);
}

unsigned int kx_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

bool kx_cpu_possible(unsigned int cpu)
{
	return cpu_possible(cpu);
}

bool kx_llist_add(struct llist_node *node, struct llist_head *head)
{
	return llist_add(node, head);
}

struct llist_node *kx_llist_del_all(struct llist_head *head)
{
	return llist_del_all(head);
}

bool kx_llist_empty(const struct llist_head *head)
{
	return llist_empty(head);
}

/* One lockdep class for every work item initialised here. */
void kx_init_delayed_work(struct delayed_work *dw, work_func_t fn)
{
	INIT_DELAYED_WORK(dw, fn);
}

bool kx_delayed_work_armed(struct delayed_work *dw)
{
	return timer_pending(&dw->timer);
}

/* alloc_workqueue() is a macro (a format and varargs); bound: no WQ_UNBOUND. */
struct workqueue_struct *kx_alloc_bound_workqueue(const char *prefix,
						  const char *id, int max_active,
						  bool mem_reclaim, bool freezable)
{
	return alloc_workqueue("%s/%s",
			       (mem_reclaim ? WQ_MEM_RECLAIM : 0) |
			       (freezable ? WQ_FREEZABLE : 0),
			       max_active, prefix, id);
}

void kx_flush_workqueue(struct workqueue_struct *wq)
{
	flush_workqueue(wq);
}

struct cpumask *kx_alloc_cpumask(void)
{
	return kzalloc(cpumask_size(), GFP_KERNEL);
}

void kx_free_cpumask(struct cpumask *mask)
{
	kfree(mask);
}

void kx_cpumask_set(unsigned int cpu, struct cpumask *mask)
{
	cpumask_set_cpu(cpu, mask);
}

void kx_cpumask_clear(unsigned int cpu, struct cpumask *mask)
{
	cpumask_clear_cpu(cpu, mask);
}

bool kx_cpumask_test(unsigned int cpu, const struct cpumask *mask)
{
	return cpumask_test_cpu(cpu, mask);
}

void kx_smp_mb__after_atomic(void)
{
	smp_mb__after_atomic();
}

unsigned int kx_memalloc_nofs_save(void)
{
	return memalloc_nofs_save();
}

void kx_memalloc_nofs_restore(unsigned int flags)
{
	memalloc_nofs_restore(flags);
}

bool kx_current_is_nofs(void)
{
	return current->flags & PF_MEMALLOC_NOFS;
}

/*
 * cpuhp_setup_state_multi() is an inline wrapper that casts the multi-instance
 * callback to the single-instance type: a dynamic state in the BP "prepare"
 * section whose teardown runs on a control CPU after the CPU is dead, once
 * per registered instance (rust/kernel_ext/hotplug.rs).
 */
int kx_cpuhp_setup_multi(const char *name,
			 int (*teardown)(unsigned int cpu, struct hlist_node *node))
{
	return cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, name, NULL, teardown);
}

void kx_udelay(u32 us)
{
	udelay(us);
}

void kx_usleep(u32 us)
{
	usleep_range(us, us + us / 8 + 1);
}

/* debugfs: DEFINE_SHOW_ATTRIBUTE/DEFINE_DEBUGFS_ATTRIBUTE are macros. */
/*
 * <parent>/<name>/ at the debugfs root, creating <parent> (NULL: none) on
 * first use; two first users racing both end up in the same directory.
 * The caller's module removes <parent> when it can have no user left.
 */
struct dentry *kx_debugfs_create_dir(const char *parent, const char *name)
{
	struct dentry *p = NULL, *d;

	if (parent) {
		p = debugfs_lookup(parent, NULL);
		if (!p) {
			p = debugfs_create_dir(parent, NULL);
			if (IS_ERR(p))
				p = debugfs_lookup(parent, NULL);
			else
				dget(p);
			if (!p)
				return NULL;
		}
	}
	d = debugfs_create_dir(name, p);
	dput(p);
	return IS_ERR(d) ? NULL : d;
}

static int kx_debugfs_show(struct seq_file *m, void *v)
{
	const struct kx_debugfs_file *f = m->private;

	return f->show(m, f);
}
DEFINE_SHOW_ATTRIBUTE(kx_debugfs);

void kx_debugfs_create_show(const char *name, struct dentry *dir,
			    struct kx_debugfs_file *f)
{
	debugfs_create_file(name, 0444, dir, f, &kx_debugfs_fops);
}

static int kx_knob_get(void *data, u64 *val)
{
	const struct kx_debugfs_file *f = data;

	*val = f->get(f);
	return 0;
}

static int kx_knob_set(void *data, u64 val)
{
	const struct kx_debugfs_file *f = data;

	return f->set(f, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(kx_knob_fops, kx_knob_get, kx_knob_set, "%llu\n");

/* Removal (debugfs_remove) waits for running reads and writes. */
void kx_debugfs_create_knob(const char *name, struct dentry *dir,
			    struct kx_debugfs_file *f)
{
	debugfs_create_file_unsafe(name, 0644, dir, f, &kx_knob_fops);
}
