// SPDX-License-Identifier: GPL-2.0

//! Kernel abstractions the 6.12 `kernel` crate does not have, shaped like
//! plausible upstream ones and knowing nothing of dinofs: CPU ids that are
//! in range by construction, cpumasks, per-CPU objects, lock-less lists of
//! owned items, a bound workqueue with per-CPU queues drained by delayed
//! work on their own CPU, memory-allocation scopes, a shrinker and a
//! multi-instance CPU-hotplug state, each generic over the trait its
//! callbacks call; and `Deferred`, which owns an owner together with its
//! queues, workqueue, shrinker and CPU-dead node, so a user of the pattern
//! needs no `unsafe` at all.
//!
//! Layering: this is the bottom layer. It may use the `kernel` crate and
//! [`crate::bindings`] (including the C shims for inline and macro APIs in
//! `helpers.c`) and nothing else of the crate. Every safe function here is
//! sound for every input; what a caller must guarantee (an owner that does
//! not move while a callback can reach it) is an `unsafe fn` with a
//! `# Safety` section.

pub(crate) mod cpu;
pub(crate) mod cpumask;
pub(crate) mod debugfs;
pub(crate) mod deferred;
pub(crate) mod errno;
pub(crate) mod hotplug;
pub(crate) mod llist;
pub(crate) mod nofs;
pub(crate) mod percpu;
pub(crate) mod shrinker;
pub(crate) mod sort;
pub(crate) mod workqueue;
