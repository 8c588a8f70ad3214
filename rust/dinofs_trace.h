/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dinofs tracepoints, named after XFS's inodegc events. Enable them with
 *
 *   echo 1 > /sys/kernel/tracing/events/dinofs/enable
 *
 * They are emitted from Rust through the dinofs_trace_*() wrappers in
 * helpers.c (declared in helpers.h) and rust/trace.rs.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dinofs

#if !defined(_DINOFS_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DINOFS_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(dinofs_gc_class,
	TP_PROTO(dev_t dev),
	TP_ARGS(dev),
	TP_STRUCT__entry(__field(dev_t, dev)),
	TP_fast_assign(__entry->dev = dev;),
	TP_printk("dev %d:%d", MAJOR(__entry->dev), MINOR(__entry->dev))
);
#define DEFINE_DINOFS_GC_EVENT(name) \
DEFINE_EVENT(dinofs_gc_class, name, TP_PROTO(dev_t dev), TP_ARGS(dev))
DEFINE_DINOFS_GC_EVENT(dinofs_inodegc_flush);
DEFINE_DINOFS_GC_EVENT(dinofs_inodegc_push);
DEFINE_DINOFS_GC_EVENT(dinofs_inodegc_stop);
DEFINE_DINOFS_GC_EVENT(dinofs_inodegc_start);

DECLARE_EVENT_CLASS(dinofs_gc_queue_class,
	TP_PROTO(dev_t dev, u64 ino, unsigned int cpu, unsigned int items),
	TP_ARGS(dev, ino, cpu, items),
	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(u64, ino)
		__field(unsigned int, cpu)
		__field(unsigned int, items)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->cpu = cpu;
		__entry->items = items;
	),
	TP_printk("dev %d:%d ino %llu cpu %u items %u",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->cpu, __entry->items)
);
#define DEFINE_DINOFS_GC_QUEUE_EVENT(name) \
DEFINE_EVENT(dinofs_gc_queue_class, name, \
	TP_PROTO(dev_t dev, u64 ino, unsigned int cpu, unsigned int items), \
	TP_ARGS(dev, ino, cpu, items))
/* ino: the queued inode; items: the queue depth after adding it. */
DEFINE_DINOFS_GC_QUEUE_EVENT(dinofs_inodegc_queue);
/* ino 0; items: the depth that made the producer wait. */
DEFINE_DINOFS_GC_QUEUE_EVENT(dinofs_inodegc_throttle);
/* ino 0; cpu: the queue's CPU; items: the batch taken. */
DEFINE_DINOFS_GC_QUEUE_EVENT(dinofs_inodegc_worker);
/* ino: the dead CPU; cpu: where its queue went; items: how many. */
DEFINE_DINOFS_GC_QUEUE_EVENT(dinofs_inodegc_cpu_dead);
/* ino 0; cpu 0; items: what the shrinker counted. */
DEFINE_DINOFS_GC_QUEUE_EVENT(dinofs_inodegc_shrinker_scan);
/* The inode being torn down on disk; cpu: where. */
DEFINE_DINOFS_GC_QUEUE_EVENT(dinofs_inode_inactivating);

#endif /* _DINOFS_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dinofs_trace
#include <trace/define_trace.h>
