// SPDX-License-Identifier: GPL-2.0

//! Lock-less lists (`llist`) of owned items, taken a whole batch at a time.

use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::alloc::{AllocError, Flags, KBox};
use kernel::types::Opaque;

/// An owned object that can be on an [`LList`]: it embeds an `llist_node`
/// and hands its ownership to the list with the node.
///
/// # Safety
///
/// [`Self::into_node`] must return a node that stays valid and is used by
/// nothing else until [`Self::from_node`] gets it back, and `from_node`
/// must rebuild exactly the object `into_node` gave up.
pub(crate) unsafe trait LListItem: Send + Sized {
    /// Gives up ownership: the object lives on in its node.
    fn into_node(self) -> NonNull<bindings::llist_node>;

    /// Takes ownership back.
    ///
    /// # Safety
    ///
    /// `node` must come from [`Self::into_node`] and be taken back once.
    unsafe fn from_node(node: NonNull<bindings::llist_node>) -> Self;
}

/// A lock-less list of owned `T`s: any number of adders and takers at
/// once, any context (`llist_add`, `llist_del_all`). Items come back in
/// LIFO order. The head is one pointer, so the list may move.
pub(crate) struct LList<T: LListItem> {
    head: Opaque<bindings::llist_head>,
    _items: PhantomData<T>,
}

// SAFETY: the list only moves owned `T: Send` between threads, through
// atomic operations on the head.
unsafe impl<T: LListItem> Send for LList<T> {}
// SAFETY: as above; every operation through `&self` is atomic.
unsafe impl<T: LListItem> Sync for LList<T> {}

impl<T: LListItem> LList<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            head: Opaque::new(bindings::llist_head {
                first: core::ptr::null_mut(),
            }),
            _items: PhantomData,
        }
    }

    /// Adds `item`; returns whether the list was empty.
    pub(crate) fn push(&self, item: T) -> bool {
        let node = item.into_node();
        // SAFETY: a live head; `node` is owned by us and on no list.
        unsafe { bindings::kx_llist_add(node.as_ptr(), self.head.get()) }
    }

    /// Takes every item; the batch yields each exactly once.
    pub(crate) fn take_all(&self) -> Batch<T> {
        // SAFETY: llist_del_all is safe against concurrent adders/takers.
        let first = unsafe { bindings::kx_llist_del_all(self.head.get()) };
        Batch {
            next: first,
            _items: PhantomData,
        }
    }

    /// Whether the list is empty (racy by nature).
    pub(crate) fn is_empty(&self) -> bool {
        // SAFETY: an atomic read of the head.
        unsafe { bindings::kx_llist_empty(self.head.get()) }
    }
}

impl<T: LListItem> Drop for LList<T> {
    fn drop(&mut self) {
        drop(self.take_all());
    }
}

/// Items taken off an [`LList`], in LIFO order; each is yielded once, and
/// those never yielded are dropped with the batch.
pub(crate) struct Batch<T: LListItem> {
    next: *mut bindings::llist_node,
    _items: PhantomData<T>,
}

// SAFETY: the batch owns its `T: Send` items.
unsafe impl<T: LListItem> Send for Batch<T> {}

impl<T: LListItem> Batch<T> {
    /// How many items are left (walks the batch).
    pub(crate) fn remaining(&self) -> u32 {
        let mut n = 0u32;
        let mut node = self.next;
        while !node.is_null() {
            n = n.saturating_add(1);
            // SAFETY: the nodes of a taken batch are ours and stay linked
            // until yielded.
            node = unsafe { (*node).next };
        }
        n
    }
}

impl<T: LListItem> Iterator for Batch<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let node = NonNull::new(self.next)?;
        // SAFETY: the nodes of a taken batch are ours; read the link before
        // handing the item (and its node) out.
        self.next = unsafe { (*node.as_ptr()).next };
        // SAFETY: every node on an `LList<T>` came from `T::into_node`
        // (`push`), and this batch yields it once.
        Some(unsafe { T::from_node(node) })
    }
}

impl<T: LListItem> Drop for Batch<T> {
    fn drop(&mut self) {
        for item in self.by_ref() {
            drop(item);
        }
    }
}

/// A heap object with the `llist_node` that puts it on an [`LList`]: the
/// simplest [`LListItem`], `KBox<Boxed<T>>`.
#[repr(C)]
pub(crate) struct Boxed<T> {
    /// First: the node's address is the object's.
    node: Opaque<bindings::llist_node>,
    /// The payload.
    pub(crate) value: T,
}

// SAFETY: the node is only used by the list the object is on, through
// atomic list operations; the payload is `Send`.
unsafe impl<T: Send> Send for Boxed<T> {}

impl<T> Boxed<T> {
    /// Allocates `value` with a node.
    pub(crate) fn new(value: T, flags: Flags) -> Result<KBox<Self>, AllocError> {
        KBox::new(
            Self {
                node: Opaque::uninit(),
                value,
            },
            flags,
        )
    }
}

// SAFETY: the node is the first field of the `#[repr(C)]` box contents, so
// the box's raw pointer and the node's are the same address; `into_node`
// leaks the box and `from_node` rebuilds it from that address.
unsafe impl<T: Send> LListItem for KBox<Boxed<T>> {
    fn into_node(self) -> NonNull<bindings::llist_node> {
        // SAFETY: `into_raw` never returns null.
        unsafe { NonNull::new_unchecked(KBox::into_raw(self).cast()) }
    }

    unsafe fn from_node(node: NonNull<bindings::llist_node>) -> Self {
        // SAFETY: per the contract, `node` came from `into_node`: it is the
        // raw pointer of a leaked `KBox<Boxed<T>>`.
        unsafe { KBox::from_raw(node.as_ptr().cast()) }
    }
}
