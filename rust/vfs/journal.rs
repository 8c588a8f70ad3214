// SPDX-License-Identifier: GPL-2.0

//! A jbd2 journal (`journal_t`) in a fixed region of a filesystem's own
//! block device: the kernel's journaling layer, as ext4 and ocfs2 use it.
//!
//! The 6.12 `kernel` crate has no jbd2 abstraction. This one covers the
//! journal's lifetime: [`Journal::load`] is `jbd2_journal_init_dev` over the
//! region (with `JBD2_BARRIER`, so every commit is a cache flush plus a FUA
//! write) followed by `jbd2_journal_load`, which replays whatever the log
//! holds and starts the commit thread (`kjournald2`); dropping the
//! [`Journal`] is `jbd2_journal_destroy`, which commits, checkpoints and
//! marks the log empty (and writes nothing when it already is).
//!
//! jbd2 addresses the region with an identity map: the journal's
//! superblock is device block `start`, its log blocks are device blocks
//! `start + 1 .. len` (`s_first`, `s_maxlen`), so `len` is one past the
//! region's last block, not its length (`Documentation/format.rst`,
//! "The journal").
//!
//! A [`Handle`] is one atomic update (`handle_t`), started on the current
//! task by [`Journal::start`] with the log space (credits) it may use, and
//! stopped when dropped. [`Journal::quiesce`] is the freeze-time barrier.
//!
//! # Invariants
//!
//! [`Journal::ptr`] is a journal returned by `jbd2_journal_init_dev` that
//! `jbd2_journal_load` loaded successfully, not yet destroyed, owned by
//! this value.

use super::{Block, Buffer, FileSystem, SuperBlock};
use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

/// `JBD2_FEATURE_INCOMPAT_CSUM_V3` (a macro in `jbd2.h`).
const INCOMPAT_CSUM_V3: kernel::ffi::c_ulong = 0x10;

/// A loaded jbd2 journal. See the module documentation.
pub(crate) struct Journal {
    ptr: NonNull<bindings::journal_t>,
}

// SAFETY: jbd2 serialises every user of a journal with its own locks
// (`j_state_lock`, `j_list_lock`, `j_barrier`); the journal is not tied to
// the task that loaded it.
unsafe impl Send for Journal {}
// SAFETY: as above: every jbd2 entry point may be called concurrently.
unsafe impl Sync for Journal {}

/// What [`Journal::load`] found.
pub(crate) struct Loaded {
    /// The journal, loaded.
    pub(crate) journal: Journal,
    /// Whether the log held transactions that were replayed (the device's
    /// cached blocks were rewritten: re-read what was read before).
    pub(crate) replayed: bool,
    /// The error an earlier mount's `jbd2_journal_abort` recorded in the
    /// journal superblock (`s_errno`, negative), or 0.
    pub(crate) recorded_error: i32,
}

/// Why [`Journal::load`] failed, for the caller's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoadError {
    /// The journal superblock is not a valid one for this region (jbd2
    /// printed which check failed); `Error` is jbd2's.
    BadSuperblock(Error),
    /// The journal superblock's checksum is wrong.
    BadChecksum,
    /// The journal lacks checksums (v3), which dinofs requires.
    NoChecksums,
    /// Replaying the log failed (I/O error, or a corrupt transaction).
    Replay(Error),
    /// Anything else (no memory for the journal).
    Other(Error),
}

impl LoadError {
    /// The error the mount fails with: `-EUCLEAN` for anything the disk
    /// said, the kernel's error otherwise.
    pub(crate) fn to_errno(self) -> Error {
        match self {
            Self::BadSuperblock(e) if e == EIO => EIO,
            Self::BadSuperblock(_) | Self::BadChecksum | Self::NoChecksums => {
                crate::kernel_ext::errno::euclean()
            }
            Self::Replay(e) if e == EIO => EIO,
            Self::Replay(_) => crate::kernel_ext::errno::euclean(),
            Self::Other(e) => e,
        }
    }
}

impl Journal {
    /// Opens the journal whose superblock is device block `start` and
    /// whose log ends before device block `len`, on `sb`'s device, and
    /// loads it: replays the log if it needs it, starts the commit thread.
    /// jbd2 checks the journal superblock against the region (magic,
    /// block size, `s_first`/`s_maxlen`, features, checksum) and prints
    /// what it rejects.
    ///
    /// Call from `fill_super`, after the block size is set.
    pub(crate) fn load<T: FileSystem>(
        sb: &SuperBlock<T>,
        start: u32,
        len: u32,
    ) -> core::result::Result<Loaded, LoadError> {
        let len = c_int::try_from(len).map_err(|_| LoadError::BadSuperblock(EINVAL))?;
        let mut err: c_int = 0;
        let (sbp, start) = (sb.as_ptr(), u64::from(start));
        // SAFETY: `sb` is a live superblock on a block device whose block
        // size was set; `err` is a valid out-pointer for the call.
        let ptr = unsafe { bindings::dinofs_journal_init(sbp, start, len, &mut err) };
        let Some(ptr) = NonNull::new(ptr) else {
            let e = Error::from_errno(err);
            return Err(if err == -(bindings::EBADMSG as c_int) {
                LoadError::BadChecksum
            } else if err == -(bindings::ENOMEM as c_int) {
                LoadError::Other(e)
            } else {
                LoadError::BadSuperblock(e)
            });
        };
        // From here on a failure destroys the journal: an unloaded journal
        // is still JBD2_ABORT, so destroying it writes nothing.
        let fail = |e: LoadError| {
            // SAFETY: `ptr` came from jbd2_journal_init_dev and is not used
            // again.
            unsafe { bindings::jbd2_journal_destroy(ptr.as_ptr()) };
            Err(e)
        };
        // SAFETY: an initialised journal.
        if unsafe {
            bindings::jbd2_journal_check_used_features(ptr.as_ptr(), 0, 0, INCOMPAT_CSUM_V3)
        } == 0
        {
            return fail(LoadError::NoChecksums);
        }
        // SAFETY: an initialised journal; its superblock was read by
        // jbd2_journal_init_dev.
        let replayed = unsafe { bindings::dinofs_journal_needs_recovery(ptr.as_ptr()) };
        // SAFETY: an initialised, not yet loaded journal.
        if let Err(e) = to_result(unsafe { bindings::jbd2_journal_load(ptr.as_ptr()) }) {
            return fail(LoadError::Replay(e));
        }
        // INVARIANT: loaded successfully; the value owns it.
        let journal = Journal { ptr };
        // SAFETY: a loaded journal (type invariant).
        let recorded_error = unsafe { bindings::jbd2_journal_errno(journal.ptr.as_ptr()) };
        Ok(Loaded {
            journal,
            replayed,
            recorded_error,
        })
    }

    /// The most credits one handle may ask for (jbd2's
    /// `jbd2_max_user_trans_buffers`: a third of the log minus the commit's
    /// own overhead). Operations that may need more roll over several
    /// handles.
    pub(crate) fn max_credits(&self) -> u32 {
        // SAFETY: a loaded journal (type invariant); reads two fields set
        // at load and never changed.
        let n = unsafe { bindings::dinofs_journal_max_credits(self.ptr.as_ptr()) };
        u32::try_from(n).unwrap_or(0)
    }

    /// The log blocks `revokes` revoke records take on top of a handle's
    /// credits (jbd2 adds them to what the handle reserves).
    pub(crate) fn revoke_blocks(&self, revokes: u32) -> u32 {
        let Ok(revokes) = c_int::try_from(revokes) else {
            return u32::MAX;
        };
        // SAFETY: a loaded journal (type invariant); reads a field set at
        // load and never changed.
        let n = unsafe { bindings::dinofs_journal_revoke_blocks(self.ptr.as_ptr(), revokes) };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Whether the calling task runs a handle of this journal: a change
    /// of a journaled block made now must go through [`Self::modify`].
    pub(crate) fn in_handle(&self) -> bool {
        // SAFETY: a loaded journal (type invariant); reads the task's
        // `journal_info` and the handle it names, which is this task's.
        unsafe { bindings::dinofs_journal_in_handle(self.ptr.as_ptr()) }
    }

    /// The transaction id of the calling task's handle of this journal,
    /// if it runs one: what a block freed now waits for before it may be
    /// allocated again ([`Self::committed`]).
    pub(crate) fn handle_tid(&self) -> Option<u32> {
        let mut tid = 0u32;
        // SAFETY: a loaded journal (type invariant); reads the task's own
        // handle; `tid` is a valid out-pointer.
        unsafe { bindings::dinofs_journal_handle_tid(self.ptr.as_ptr(), &mut tid) }.then_some(tid)
    }

    /// Whether transaction `tid` has committed (is on the disk). Any `tid`
    /// is safe: jbd2 compares it with its commit sequence, wrapping.
    pub(crate) fn committed(&self, tid: u32) -> bool {
        // SAFETY: a loaded journal (type invariant); reads one field.
        unsafe { bindings::dinofs_journal_committed(self.ptr.as_ptr(), tid) }
    }

    /// Commits transaction `tid` if it is still running and waits until
    /// it is on the disk (`jbd2_complete_transaction`; an old `tid` returns
    /// at once). Fails with `EDEADLK` inside a handle (the commit would
    /// wait for it), `EIO` if the journal is aborted.
    pub(crate) fn complete(&self, tid: u32) -> Result {
        // SAFETY: a loaded journal (type invariant); the shim refuses from
        // inside a handle.
        to_result(unsafe { bindings::dinofs_journal_complete(self.ptr.as_ptr(), tid) })
    }

    /// Sets the commit interval: a running transaction is committed this
    /// many seconds after it began (at most 3,600; ext4's `commit=`).
    pub(crate) fn set_commit_interval(&self, secs: u32) {
        // SAFETY: a loaded journal (type invariant); the shim takes
        // `j_state_lock`; the product fits (secs <= 3600, HZ <= 1000).
        unsafe { bindings::dinofs_journal_set_commit_interval(self.ptr.as_ptr(), secs.min(3600)) };
    }

    /// Starts a handle that may log up to `credits` blocks and `revokes`
    /// revoke records, waiting for log space or for a barrier
    /// ([`Self::quiesce`]) if it has to. Inside a handle already running
    /// on this task, returns that handle again (jbd2 counts the nesting;
    /// the credits are the outer handle's).
    ///
    /// The caller holds freeze protection (`sb_start_write`, taken by the
    /// VFS for system calls, or [`SuperBlock::start_intwrite`] for the
    /// filesystem's own work) and no filesystem lock or folio lock: a
    /// handle may wait for a commit, and a commit for the locks' holders.
    ///
    /// Fails with `EINVAL` when the credits and the log blocks of the
    /// revoke records ([`Self::revoke_blocks`]) exceed [`Self::max_credits`]
    /// (jbd2 would WARN), `EROFS` once the journal is aborted.
    ///
    /// [`SuperBlock::start_intwrite`]: super::SuperBlock::start_intwrite
    pub(crate) fn start(&self, credits: u32, revokes: u32) -> Result<Handle<'_>> {
        if credits == 0 || credits.saturating_add(self.revoke_blocks(revokes)) > self.max_credits()
        {
            return Err(EINVAL);
        }
        let credits = c_int::try_from(credits).map_err(|_| EINVAL)?;
        let revokes = c_int::try_from(revokes).map_err(|_| EINVAL)?;
        let mut err: c_int = 0;
        // SAFETY: a loaded journal (type invariant); `err` is a valid
        // out-pointer; credits are within jbd2's limit (checked above).
        let ptr = unsafe {
            bindings::dinofs_journal_start(self.ptr.as_ptr(), credits, revokes, &mut err)
        };
        match NonNull::new(ptr) {
            // INVARIANT: started on this task by jbd2, stopped only by the
            // value's drop; the value cannot leave the task (`!Send`).
            Some(ptr) => Ok(Handle {
                ptr,
                _journal: PhantomData,
                _task: PhantomData,
            }),
            None => Err(Error::from_errno(err)),
        }
    }

    /// Aborts the journal (`jbd2_journal_abort`): no handle starts or
    /// commits from now on (`EROFS`), nothing more is written to the log,
    /// and the log stays as it is for the next mount to replay. `errno` is
    /// recorded in the journal superblock for the next mount to report,
    /// except `ESHUTDOWN`, which jbd2 records as 0 (a shutdown is not an
    /// error). May sleep: not from atomic context.
    pub(crate) fn abort(&self, errno: Error) {
        // SAFETY: a loaded journal (type invariant); process context (the
        // caller's contract, stated above).
        unsafe { bindings::jbd2_journal_abort(self.ptr.as_ptr(), errno.to_errno()) };
    }

    /// Whether the journal was aborted (by [`Self::abort`], or by jbd2
    /// itself after a failed write to the log).
    pub(crate) fn is_aborted(&self) -> bool {
        // SAFETY: a loaded journal (type invariant); reads its flags.
        unsafe { bindings::dinofs_journal_aborted(self.ptr.as_ptr()) }
    }

    /// Tells jbd2 that the device's failed writes so far lost nothing the
    /// filesystem needs (it rewrites what they carried, or decided they
    /// carried nothing): jbd2 would otherwise see them at destroy and
    /// abort the journal (`jbd2_check_fs_dev_write_error`). The errors are
    /// marked seen, so a later sample of the device's errseq starts after
    /// them.
    pub(crate) fn forgive_write_errors(&self) {
        // SAFETY: a loaded journal (type invariant); errseq updates are
        // atomic.
        unsafe { bindings::dinofs_journal_forgive_write_errors(self.ptr.as_ptr()) };
    }

    /// Commits the running transaction, if any, and waits until it and any
    /// transaction committing before it are on the disk
    /// (`jbd2_journal_force_commit`; with `JBD2_BARRIER` the commit block
    /// goes out behind a cache flush and with FUA). The durability point of
    /// `sync_fs`. Fails with `EDEADLK` if the calling task runs a handle
    /// (the commit would wait for it), `EIO` if the journal is aborted.
    pub(crate) fn commit(&self) -> Result {
        // SAFETY: a loaded journal (type invariant); the shim refuses to
        // wait from inside a handle, the one case jbd2 BUGs on.
        to_result(unsafe { bindings::dinofs_journal_commit(self.ptr.as_ptr()) })
    }

    /// Changes `buf` as part of the task's running handle: jbd2 is given
    /// write access first (`jbd2_journal_get_write_access`, which may wait
    /// for the committing transaction to write out its copy, and takes
    /// the buffer lock itself), then `f` runs on the contents under the
    /// buffer lock, then the buffer joins the handle's transaction
    /// (`jbd2_journal_dirty_metadata`). The buffer is never marked dirty
    /// for writeback: jbd2 writes it to the log at commit and in place at
    /// checkpoint. Every change of a journaled block goes through here,
    /// in every handle that changes it.
    ///
    /// Fails with `EIO` (and a warning: a dinofs bug) if no handle of this
    /// journal runs on the task, `EROFS` once the journal is aborted, and
    /// `ENOSPC`, before anything changed, if the handle's credits ran out,
    /// it cannot grow (the running transaction is full) and the buffer is
    /// not logged in that transaction yet.
    pub(crate) fn modify<R>(&self, buf: &Buffer, f: impl FnOnce(&mut Block) -> R) -> Result<R> {
        // SAFETY: a loaded journal (type invariant); a referenced buffer
        // head; the shim finds the handle and refuses without one. Not
        // under the buffer lock (jbd2 takes it).
        to_result(unsafe {
            bindings::dinofs_journal_get_write_access(self.ptr.as_ptr(), buf.as_ptr())
        })?;
        let r = buf.change(f);
        // SAFETY: as above; write access was given in this handle.
        to_result(unsafe {
            bindings::dinofs_journal_dirty_metadata(self.ptr.as_ptr(), buf.as_ptr())
        })?;
        Ok(r)
    }

    /// The buffer of metadata block `block`, newly allocated in the
    /// running handle: created in its transaction
    /// (`jbd2_journal_get_create_access`), zeroed, uptodate and logged;
    /// the caller fills it with [`Self::modify`]. Errors as for
    /// [`Self::modify`], or `ENOMEM`.
    pub(crate) fn create_block<T: FileSystem>(
        &self,
        sb: &SuperBlock<T>,
        block: u32,
    ) -> Result<Buffer> {
        let mut err: c_int = 0;
        // SAFETY: a loaded journal (type invariant) on `sb`'s device; a
        // live superblock; `err` is a valid out-pointer.
        let bh = unsafe {
            bindings::dinofs_journal_getblk_create(
                self.ptr.as_ptr(),
                sb.as_ptr(),
                block as u64,
                &mut err,
            )
        };
        if bh.is_null() {
            return Err(Error::from_errno(err));
        }
        Buffer::new(bh, block).ok_or(EIO)
    }

    /// Metadata block `block` was freed in the running handle: a revoke
    /// record keeps a replay from writing an older transaction's copy of
    /// it over what the block holds next, and its cached buffer leaves the
    /// transactions it is on (`jbd2_journal_revoke` with the buffer, as
    /// `ext4_forget`). Takes one revoke credit of the handle, growing the
    /// handle when it has none left (`ENOSPC` when the running transaction
    /// cannot grow). Call it once
    /// the block is freed and no [`Buffer`] of it is held; a block freed
    /// twice without being journaled again in between is reported by jbd2
    /// and fails with `EIO`.
    pub(crate) fn revoke<T: FileSystem>(&self, sb: &SuperBlock<T>, block: u32) -> Result {
        // SAFETY: a loaded journal (type invariant) on `sb`'s device; a
        // live superblock; the shim finds the handle and refuses without
        // one, and balances the buffer reference it takes on every path.
        to_result(unsafe {
            bindings::dinofs_journal_revoke(self.ptr.as_ptr(), sb.as_ptr(), block as u64)
        })
    }

    /// The freeze barrier (`ext4_freeze`): waits for every running handle
    /// to stop and keeps new ones out, commits and checkpoints everything
    /// and marks the log empty (`jbd2_journal_flush`), then lets handles in
    /// again — the VFS freeze levels keep new ones out from there on.
    pub(crate) fn quiesce(&self) -> Result {
        // SAFETY: a loaded journal (type invariant); the caller starts no
        // handle in between (it is freezing), and the updates lock taken
        // here is released below on every path.
        unsafe { bindings::jbd2_journal_lock_updates(self.ptr.as_ptr()) };
        // SAFETY: as above.
        let r = to_result(unsafe { bindings::jbd2_journal_flush(self.ptr.as_ptr(), 0) });
        // SAFETY: taken above.
        unsafe { bindings::jbd2_journal_unlock_updates(self.ptr.as_ptr()) };
        r
    }

    /// Clears the error an earlier mount recorded ([`Loaded::recorded_error`])
    /// in memory and in the journal superblock (written synchronously), as
    /// ext4 does once it has reported it. A read-only mount leaves it.
    pub(crate) fn clear_recorded_error(&self) -> Result {
        // SAFETY: a loaded journal (type invariant).
        to_result(unsafe { bindings::jbd2_journal_clear_err(self.ptr.as_ptr()) })?;
        // SAFETY: as above; jbd2 writes the journal superblock under that
        // buffer's lock, which it takes itself.
        unsafe { bindings::jbd2_journal_update_sb_errno(self.ptr.as_ptr()) };
        Ok(())
    }
}

impl Drop for Journal {
    /// `jbd2_journal_destroy`: commits what is running, checkpoints
    /// everything, marks the log empty and stops the commit thread. If the
    /// journal was aborted, or a write to the device failed since it was
    /// loaded (jbd2 then aborts it), the log stays as it is and the next
    /// mount replays it.
    fn drop(&mut self) {
        // SAFETY: a loaded journal we own (type invariant); nothing uses it
        // after the drop.
        unsafe { bindings::jbd2_journal_destroy(self.ptr.as_ptr()) };
    }
}

/// A running jbd2 handle (`handle_t`). See [`Journal::start`].
///
/// # Invariants
///
/// `ptr` was started by `jbd2__journal_start` on the current task and is
/// not yet stopped; the journal it belongs to outlives `'a`.
pub(crate) struct Handle<'a> {
    ptr: NonNull<bindings::handle_t>,
    _journal: PhantomData<&'a Journal>,
    /// A handle is stopped on the task that started it
    /// (`current->journal_info`): not `Send`, not `Sync`.
    _task: PhantomData<*mut ()>,
}

impl Handle<'_> {
    /// Stops the handle and returns jbd2's verdict (`EIO` if the journal
    /// was aborted meanwhile). Dropping it stops it too, ignoring that.
    pub(crate) fn stop(self) -> Result {
        let ptr = self.ptr;
        core::mem::forget(self);
        // SAFETY: a running handle of this task (type invariant), not used
        // again: `self` was forgotten, so `Drop` does not stop it twice.
        to_result(unsafe { bindings::jbd2_journal_stop(ptr.as_ptr()) })
    }
}

impl<'a> Handle<'a> {
    /// Gives the handle up without stopping it, for one that must outlive
    /// the callback that started it: `write_begin` keeps it in the write's
    /// `fsdata` for `write_end` ([`Self::from_raw`]).
    pub(super) fn into_raw(self) -> *mut c_void {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr.as_ptr().cast()
    }

    /// Takes back a handle given up by [`Self::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Self::into_raw`] on this task, is not taken back
    /// twice, and its journal outlives `'a`.
    pub(super) unsafe fn from_raw(ptr: *mut c_void) -> Option<Self> {
        // INVARIANT: a running handle of this task whose journal outlives
        // `'a` (the caller's contract).
        NonNull::new(ptr.cast()).map(|ptr| Self {
            ptr,
            _journal: PhantomData,
            _task: PhantomData,
        })
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // SAFETY: a running handle of this task (type invariant); the drop
        // is its last use.
        unsafe { bindings::jbd2_journal_stop(self.ptr.as_ptr()) };
    }
}
