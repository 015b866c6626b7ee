//! Errors: one variant per HC_E* family, each with the library's detail sentence.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use crate::ffi;

/// A failed call. Each variant carries `hc_last_error()`'s sentence, read on the calling
/// thread right after the failing call (a RocksDB message, a config key and its range,
/// the KERI rule broken). `HC_ENOTFOUND` is never an error here: lookups return `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `HC_EINVAL`: a bad argument (an empty key, or one over 1024 bytes, ...).
    Invalid(String),
    /// `HC_ENOMEM`: an allocation failed; nothing was changed.
    NoMemory(String),
    /// `HC_ERANGE`: a buffer too small (the crate sizes its own buffers, so rare).
    Range(String),
    /// `HC_EIO`: the backing store failed.
    Io(String),
    /// `HC_ECORRUPT`: a record at rest failed to open; nothing was served.
    Corrupt(String),
    /// `HC_EKEY`: the key file does not match the store.
    Key(String),
    /// `HC_ECONFIG`: a bad config key, value or file.
    Config(String),
    /// `HC_EEXIST`: already present.
    Exists(String),
    /// `HC_EREADONLY`: a write failed to sync; the store refuses writes until reopened.
    ReadOnly(String),
    /// `HC_ENOTSUP`: not supported by this build or mode (KERI without a store, ...).
    NotSupported(String),
    /// `HC_EBUSY`: reclamation is behind (cache-only puts), or the store is locked.
    Busy(String),
    /// An `HC_EKERI_*` rejection: `code` names the rule (see hotcache.h).
    Keri { code: i32, detail: String },
    /// A code this crate does not know (a newer library).
    Other { code: i32, detail: String },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn cstr(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the library hands out NUL-terminated strings that live at least as long
    // as the call we are in.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl Error {
    /// The error for `code` with `detail`.
    pub fn from_code(code: i32, detail: String) -> Error {
        match code {
            ffi::HC_EINVAL => Error::Invalid(detail),
            ffi::HC_ENOMEM => Error::NoMemory(detail),
            ffi::HC_ERANGE => Error::Range(detail),
            ffi::HC_EIO => Error::Io(detail),
            ffi::HC_ECORRUPT => Error::Corrupt(detail),
            ffi::HC_EKEY => Error::Key(detail),
            ffi::HC_ECONFIG => Error::Config(detail),
            ffi::HC_EEXIST => Error::Exists(detail),
            ffi::HC_EREADONLY => Error::ReadOnly(detail),
            ffi::HC_ENOTSUP => Error::NotSupported(detail),
            ffi::HC_EBUSY => Error::Busy(detail),
            c if (ffi::HC_EKERI_LAST..=ffi::HC_EKERI_FIRST).contains(&c) => {
                Error::Keri { code: c, detail }
            }
            c => Error::Other { code: c, detail },
        }
    }

    /// The error for a code just returned on this thread, with `hc_last_error()`.
    /// Must run on the failing call's thread before any other hotcache call.
    #[cold]
    #[inline(never)]
    pub(crate) fn last(code: c_int) -> Error {
        // SAFETY: hc_last_error never returns NULL; the string is thread-local.
        let detail = cstr(unsafe { ffi::hc_last_error() });
        Error::from_code(code, detail)
    }

    /// The library's negative code (`HC_EINVAL` is -1, ...).
    pub fn code(&self) -> i32 {
        match self {
            Error::Invalid(_) => ffi::HC_EINVAL,
            Error::NoMemory(_) => ffi::HC_ENOMEM,
            Error::Range(_) => ffi::HC_ERANGE,
            Error::Io(_) => ffi::HC_EIO,
            Error::Corrupt(_) => ffi::HC_ECORRUPT,
            Error::Key(_) => ffi::HC_EKEY,
            Error::Config(_) => ffi::HC_ECONFIG,
            Error::Exists(_) => ffi::HC_EEXIST,
            Error::ReadOnly(_) => ffi::HC_EREADONLY,
            Error::NotSupported(_) => ffi::HC_ENOTSUP,
            Error::Busy(_) => ffi::HC_EBUSY,
            Error::Keri { code, .. } | Error::Other { code, .. } => *code,
        }
    }

    /// The library's sentence of detail ("" when it gave none).
    pub fn detail(&self) -> &str {
        match self {
            Error::Invalid(d)
            | Error::NoMemory(d)
            | Error::Range(d)
            | Error::Io(d)
            | Error::Corrupt(d)
            | Error::Key(d)
            | Error::Config(d)
            | Error::Exists(d)
            | Error::ReadOnly(d)
            | Error::NotSupported(d)
            | Error::Busy(d) => d,
            Error::Keri { detail, .. } | Error::Other { detail, .. } => detail,
        }
    }

    /// The code's name and meaning, from `hc_strerror` ("HC_ENOMEM: out of memory").
    pub fn name(&self) -> String {
        // SAFETY: hc_strerror never returns NULL and its strings are static.
        cstr(unsafe { ffi::hc_strerror(self.code()) })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.detail();
        if d.is_empty() {
            write!(f, "{}", self.name())
        } else {
            write!(f, "{} ({})", d, self.name())
        }
    }
}

impl std::error::Error for Error {}

/// 0 -> Ok, else the error with this thread's detail.
pub(crate) fn check(rc: c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last(rc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_family_and_back() {
        for code in [-1, -2, -4, -5, -6, -7, -8, -9, -10, -11, -12, -100, -113, -127, -300] {
            let e = Error::from_code(code, "why".into());
            assert_eq!(e.code(), code);
            assert_eq!(e.detail(), "why");
        }
        assert!(matches!(Error::from_code(-113, String::new()), Error::Keri { code: -113, .. }));
        assert!(matches!(Error::from_code(-8, String::new()), Error::Config(_)));
        assert!(matches!(Error::from_code(-300, String::new()), Error::Other { .. }));
    }

    #[test]
    fn display_gives_the_detail_and_the_library_name_of_the_code() {
        let e = Error::from_code(-8, "cache.shards: must be a power of two".into());
        let s = e.to_string();
        assert!(s.starts_with("cache.shards: must be a power of two ("), "{}", s);
        assert!(s.contains("HC_ECONFIG"), "{}", s);
        let bare = Error::from_code(-2, String::new()).to_string();
        assert!(bare.starts_with("HC_ENOMEM"), "{}", bare);
    }
}
