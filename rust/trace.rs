// SPDX-License-Identifier: GPL-2.0

//! Tracepoints. The events are defined in C (`dinofs_trace.h`, instantiated
//! in `helpers.c`) and reached through these `#[inline]` wrappers, the way
//! Rust binder reaches its `rust_binder_events.h`. They show up under
//! `/sys/kernel/tracing/events/dinofs/`.

use crate::bindings::{self, dinofs_trace_event as Ev};

/// The device number events are tagged with (`sb->s_dev`).
#[derive(Clone, Copy)]
pub(crate) struct Dev(pub(crate) bindings::dev_t);

#[inline]
fn emit(ev: Ev, dev: Dev, ino: u64, cpu: u32, items: u32) {
    // SAFETY: emitting a tracepoint has no preconditions; all arguments are
    // plain values.
    unsafe { bindings::dinofs_trace_gc(ev as i32, dev.0, ino, cpu, items) };
}

#[inline]
pub(crate) fn inodegc_flush(dev: Dev) {
    emit(Ev::DINOFS_TRACE_FLUSH, dev, 0, 0, 0);
}

#[inline]
pub(crate) fn inodegc_push(dev: Dev) {
    emit(Ev::DINOFS_TRACE_PUSH, dev, 0, 0, 0);
}

#[inline]
pub(crate) fn inodegc_stop(dev: Dev) {
    emit(Ev::DINOFS_TRACE_STOP, dev, 0, 0, 0);
}

#[inline]
pub(crate) fn inodegc_start(dev: Dev) {
    emit(Ev::DINOFS_TRACE_START, dev, 0, 0, 0);
}

#[inline]
pub(crate) fn inodegc_queue(dev: Dev, ino: u32, cpu: u32, items: u32) {
    emit(Ev::DINOFS_TRACE_QUEUE, dev, ino as u64, cpu, items);
}

#[inline]
pub(crate) fn inodegc_throttle(dev: Dev, cpu: u32, items: u32) {
    emit(Ev::DINOFS_TRACE_THROTTLE, dev, 0, cpu, items);
}

#[inline]
pub(crate) fn inodegc_worker(dev: Dev, cpu: u32, items: u32) {
    emit(Ev::DINOFS_TRACE_WORKER, dev, 0, cpu, items);
}

#[inline]
pub(crate) fn inodegc_cpu_dead(dev: Dev, dead: u32, to: u32, items: u32) {
    emit(Ev::DINOFS_TRACE_CPU_DEAD, dev, dead as u64, to, items);
}

#[inline]
pub(crate) fn inodegc_shrinker_scan(dev: Dev, count: u32) {
    emit(Ev::DINOFS_TRACE_SHRINKER_SCAN, dev, 0, 0, count);
}

#[inline]
pub(crate) fn inode_inactivating(dev: Dev, ino: u32, cpu: u32) {
    emit(Ev::DINOFS_TRACE_INACTIVATING, dev, ino as u64, cpu, 0);
}
