// SPDX-License-Identifier: GPL-2.0

//! dinofs: a small on-disk filesystem whose inode inactivation is deferred,
//! XFS-style, to per-CPU lockless queues drained by a bound workqueue.
//!
//! This is the crate root of the `dinofs.ko` module. The module is a
//! composite of this Rust crate and `helpers.c` (see `Kbuild`). The crate
//! is in layers, arrows pointing down only (`Documentation/filesystem.rst`,
//! checked by `qemu-test/host/layers.py`):
//!
//! - `fs`: dinofs itself (super, inode, dir, alloc, its side of the
//!   engine); safe Rust;
//! - `inodegc`: the deferred-inactivation engine, generic over the
//!   filesystem (per-CPU queues, bound workqueue, throttle, push/flush,
//!   stop/start, CPU-dead fold, the gc index); safe Rust;
//! - `vfs`: the VFS glue, generic over a `FileSystem` trait: safe views of
//!   the VFS objects, the operation tables and their trampolines;
//! - `kernel_ext`, `trace`: kernel abstractions the 6.12 `kernel` crate
//!   lacks, knowing nothing of dinofs, and the tracepoint wrappers;
//! - `format`: the on-disk format, shared with the userspace tools;
//! - `bindings`: kernel bindings plus the module-local `dinofs_*` ones.
//!
//! The `unsafe` code is in `vfs`, `kernel_ext` and `trace` only.
//!
//! Try it in the test VM (`make shell`):
//!
//! ```text
//! # insmod dinofs.ko
//! # grep dinofs /proc/filesystems
//!         dinofs
//! # rmmod dinofs
//! ```
//!
//! Module parameter `selftest_splat=1` makes loading emit a deliberate
//! `WARNING:` so the test harness can prove it fails on kernel splats.

use kernel::prelude::*;

mod bindings;
// The format is shared with the userspace tools: `pub` items and helpers
// only they use are expected here.
#[allow(unreachable_pub, dead_code)]
mod format;
mod fs;
mod inodegc;
// A library layer (shared with samples/): not every user uses every item.
#[allow(dead_code)]
mod kernel_ext;
mod trace;
mod vfs;

module! {
    type: DinoFs,
    name: "dinofs",
    author: "The dinofs developers",
    description: "dinofs: deferred inode inactivation, XFS-style, in Rust",
    license: "GPL",
}

/// The module: holds the filesystem type registration for its lifetime.
struct DinoFs {
    /// Dropped first: no dinofs superblock (engine) is left after it.
    _registration: vfs::Registration<fs::DinoFs>,
    /// The CPU-dead state the engines register with; removed last.
    _cpu_dead: kernel_ext::hotplug::CpuDeadSetup<fs::gc::DinoGc>,
}

impl kernel::Module for DinoFs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if vfs::selftest::splat_requested() {
            vfs::selftest::warn();
        }
        // The hotplug state first: a mount registers its engine with it.
        let cpu_dead = fs::gc::module_init()?;
        let registration = vfs::Registration::new()?;
        pr_info!("filesystem type registered\n");
        Ok(Self {
            _registration: registration,
            _cpu_dead: cpu_dead,
        })
    }
}

impl Drop for DinoFs {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
