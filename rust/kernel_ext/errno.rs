// SPDX-License-Identifier: GPL-2.0

//! Error codes the 6.12 `kernel` crate's `error::code` lacks.

use crate::bindings;
use kernel::error::Error;

/// `ENAMETOOLONG`: file name too long.
pub(crate) fn enametoolong() -> Error {
    Error::from_errno(-(bindings::ENAMETOOLONG as i32))
}

/// `ENOTEMPTY`: directory not empty.
pub(crate) fn enotempty() -> Error {
    Error::from_errno(-(bindings::ENOTEMPTY as i32))
}

/// `ESHUTDOWN`: the filesystem was shut down (what a shutdown aborts a
/// jbd2 journal with; jbd2 records it as no error).
pub(crate) fn eshutdown() -> Error {
    Error::from_errno(-(bindings::ESHUTDOWN as i32))
}

/// `EUCLEAN`: structure needs cleaning (corrupt metadata).
pub(crate) fn euclean() -> Error {
    Error::from_errno(-(bindings::EUCLEAN as i32))
}
