// SPDX-License-Identifier: GPL-2.0

//! The error type of the library (the image builder and device access).

use crate::format::FormatError;
use std::fmt;
use std::io;

/// What went wrong in a library operation.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing the device failed.
    Io(io::Error),
    /// On-disk metadata failed validation (bad checksum, bad value, ...).
    Format(FormatError),
    /// No free block, or no free inode number, is left.
    NoSpace,
    /// A directory entry with that name already exists.
    Exists,
    /// No such directory entry or inode.
    NotFound,
    /// The inode is not a directory where one is required.
    NotDir,
    /// The operation does not apply to a directory.
    IsDir,
    /// An argument is out of range (name length, symlink target, mode ...).
    Invalid(&'static str),
}

/// `Result` with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Format(e) => write!(f, "corrupt metadata: {e:?}"),
            Error::NoSpace => write!(f, "no space left on the filesystem"),
            Error::Exists => write!(f, "name already exists"),
            Error::NotFound => write!(f, "not found"),
            Error::NotDir => write!(f, "not a directory"),
            Error::IsDir => write!(f, "is a directory"),
            Error::Invalid(what) => write!(f, "invalid argument: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<FormatError> for Error {
    fn from(e: FormatError) -> Self {
        Error::Format(e)
    }
}
