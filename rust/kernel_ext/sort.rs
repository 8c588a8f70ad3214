// SPDX-License-Identifier: GPL-2.0

//! In-place heapsort, as the kernel's `sort()` (lib/sort.c): O(n log n)
//! whatever the input, no allocation, no recursion. `core`'s slice sorts
//! are avoided in the module: objtool cannot follow their panic paths.

/// Sorts `v` by `key`, ascending (not stable).
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    let n = v.len();
    // Heapify, then move the maximum to the end n - 1 times.
    for start in (0..n / 2).rev() {
        sift_down(v, start, n, &mut key);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &mut key);
    }
}

/// Sorts `v` ascending.
pub(crate) fn sort<T: Ord + Copy>(v: &mut [T]) {
    sort_by_key(v, |x| *x)
}

/// Restores the max-heap property below `root` in `v[..end]`.
fn sift_down<T, K: Ord>(v: &mut [T], mut root: usize, end: usize, key: &mut impl FnMut(&T) -> K) {
    loop {
        let mut child = match root.checked_mul(2).and_then(|c| c.checked_add(1)) {
            Some(c) if c < end => c,
            _ => return,
        };
        if let (Some(a), Some(b)) = (v.get(child), v.get(child + 1)) {
            if child + 1 < end && key(a) < key(b) {
                child += 1;
            }
        }
        match (v.get(root), v.get(child)) {
            (Some(r), Some(c)) if key(r) < key(c) => {
                v.swap(root, child);
                root = child;
            }
            _ => return,
        }
    }
}
