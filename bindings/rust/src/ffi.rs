//! Hand-written declarations of include/hotcache.h (0.2.0 layouts).
//!
//! Every struct mirrors its C counterpart field for field, `#[repr(C)]`. The header's
//! design names (hc_config_default, hc_stats, ...) are C macros over the `*_sized`
//! functions declared here; the crate passes `size_of` of these mirrors, so a newer
//! library that has appended fields keeps serving this crate unchanged (the fields it
//! lacks take their defaults and are never written).
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

pub const HC_PATH_MAX: usize = 1024;
pub const HC_KERI_QB64: usize = 44;
pub const HC_KERI_MAX_KEYS: usize = 32;
pub const HC_KERI_MAX_WITS: usize = 32;
/// hotcache.h's HC_KERI_SITH_MAX: the longest threshold text, with its NUL.
pub const HC_KERI_SITH_MAX: usize = 834;

pub const HC_OK: c_int = 0;
pub const HC_EINVAL: c_int = -1;
pub const HC_ENOMEM: c_int = -2;
pub const HC_ENOTFOUND: c_int = -3;
pub const HC_ERANGE: c_int = -4;
pub const HC_EIO: c_int = -5;
pub const HC_ECORRUPT: c_int = -6;
pub const HC_EKEY: c_int = -7;
pub const HC_ECONFIG: c_int = -8;
pub const HC_EEXIST: c_int = -9;
pub const HC_EREADONLY: c_int = -10;
pub const HC_ENOTSUP: c_int = -11;
pub const HC_EBUSY: c_int = -12;
/// KERI rejections are HC_EKERI_FIRST down to HC_EKERI_LAST (-100 .. -199; hotcache.h
/// names -100 .. -128 today).
pub const HC_EKERI_FIRST: c_int = -100;
pub const HC_EKERI_LAST: c_int = -199;

pub const HC_KEL_ACCEPTED: c_int = 0;
pub const HC_KEL_DUPLICATE: c_int = 1;
pub const HC_KEL_RECEIPT: c_int = 2;
pub const HC_KEL_REJECTED: c_int = 3;
pub const HC_KEL_ESCROWED: c_int = 4;
pub const HC_KERI_LOCAL_TEXT: usize = 32 * 45;

#[repr(C)]
pub struct hc_cache {
    _opaque: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct hc_config {
    pub size: u32,
    pub memory_limit: u64,
    pub shards: u32,
    pub max_entry: u64,
    pub expected_entries: u64,
    pub backing_mode: c_int,
    pub backing_path: [c_char; HC_PATH_MAX],
    pub durability: c_int,
    pub block_cache: u64,
    pub write_buffer: u64,
    pub create_if_missing: c_int,
    pub key_file: [c_char; HC_PATH_MAX],
    // Added after the first sized layout (0.2.0 development).
    pub log_fn: Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, arg: *mut c_void)>,
    pub log_arg: *mut c_void,
    pub open_mode: c_int,
    pub store_log_level: c_int,
    pub store_log_dir: [c_char; HC_PATH_MAX],
    pub key_file_permissive: c_int,
    // keri.own, keri.witness, keri.escrow_limit, keri.escrow_timeout (issue 10).
    pub keri_escrow_limit: u64,
    pub keri_escrow_timeout: u64,
    pub keri_own: [c_char; HC_KERI_LOCAL_TEXT],
    pub keri_witness: [c_char; HC_KERI_LOCAL_TEXT],
}

/// `struct hc_stats` and `struct hc_shard_stats` are the crate's public `Stats` and
/// `ShardStats`, which are `#[repr(C)]` mirrors themselves.
pub type hc_stats = crate::cache::Stats;
pub type hc_shard_stats = crate::cache::ShardStats;

pub type Qb64 = [c_char; HC_KERI_QB64 + 1];

#[repr(C)]
#[derive(Clone, Copy)]
pub struct hc_keystate {
    pub size: u32,
    pub prefix: Qb64,
    pub sn: u64,
    pub said: Qb64,
    pub prior: Qb64,
    pub ilk: [c_char; 4],
    pub dt: [c_char; 40],
    pub kt: [c_char; HC_KERI_SITH_MAX],
    pub nt: [c_char; HC_KERI_SITH_MAX],
    pub nkeys: u32,
    pub nnext: u32,
    pub nwits: u32,
    pub keys: [Qb64; HC_KERI_MAX_KEYS],
    pub next: [Qb64; HC_KERI_MAX_KEYS],
    pub bt: u32,
    pub wits: [Qb64; HC_KERI_MAX_WITS],
    pub est_sn: u64,
    pub est_said: Qb64,
    /// Keeps `di` out of the first layout's tail padding (hotcache.h).
    pub reserved0: [c_char; 3],
    pub di: Qb64,
}

/// Library-owned: its `size` is the library's; read a field only when it is covered.
#[repr(C)]
pub struct hc_kel_event {
    pub size: u32,
    pub offset: usize,
    pub len: usize,
    pub outcome: c_int,
    pub code: c_int,
    pub prefix: *const c_char,
    pub sn: u64,
    pub ilk: *const c_char,
    pub why: *const c_char,
}

pub type hc_kel_event_fn = unsafe extern "C" fn(ev: *const hc_kel_event, arg: *mut c_void);

#[repr(C)]
pub struct hc_kel_report {
    pub size: u32,
    pub messages: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub receipts: u64,
    pub rejected: u64,
    pub first_error: c_int,
    pub first_error_offset: usize,
    pub on_event: Option<hc_kel_event_fn>,
    pub arg: *mut c_void,
    pub escrowed: u64,
    pub promoted: u64,
}

/// Library-owned, valid only during `hc_kel_receipts`' callback: its `size` is the
/// library's; read a field only when it is covered.
#[repr(C)]
pub struct hc_kel_receipt {
    pub size: u32,
    pub kind: c_int,
    pub receiptor: *const c_char,
    pub index: u32,
    pub signature: *const c_char,
    pub est_sn: u64,
    pub est_said: *const c_char,
}

pub const HC_RECEIPT_WITNESS: c_int = 0;
pub const HC_RECEIPT_NONTRANS: c_int = 1;
pub const HC_RECEIPT_TRANS: c_int = 2;
/// hotcache.h's HC_KERI_LOCAL_MAX: prefixes per list of `hc_kel_set_local`.
pub const HC_KERI_LOCAL_MAX: usize = 32;

pub type hc_kel_receipt_fn = unsafe extern "C" fn(r: *const hc_kel_receipt, arg: *mut c_void) -> c_int;
pub type hc_kel_export_fn = unsafe extern "C" fn(msg: *const c_void, len: usize, arg: *mut c_void) -> c_int;
pub type hc_kel_duplicity_fn = unsafe extern "C" fn(
    sn: u64,
    held: *const c_void,
    hlen: usize,
    other: *const c_void,
    olen: usize,
    arg: *mut c_void,
) -> c_int;

pub type hc_read_fn = unsafe extern "C" fn(val: *const c_void, vlen: usize, arg: *mut c_void);
pub type hc_batch_fn =
    unsafe extern "C" fn(i: usize, status: c_int, val: *const c_void, vlen: usize, arg: *mut c_void);

extern "C" {
    pub fn hc_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) -> *const c_char;
    pub fn hc_strerror(code: c_int) -> *const c_char;
    pub fn hc_last_error() -> *const c_char;

    pub fn hc_config_default_sized(cfg: *mut hc_config, size: usize) -> c_int;
    pub fn hc_config_load(cfg: *mut hc_config, path: *const c_char, err: *mut c_char, errlen: usize)
        -> c_int;
    pub fn hc_config_set(
        cfg: *mut hc_config,
        key: *const c_char,
        value: *const c_char,
        err: *mut c_char,
        errlen: usize,
    ) -> c_int;

    pub fn hc_open(cfg: *const hc_config, out: *mut *mut hc_cache) -> c_int;
    pub fn hc_close(cache: *mut hc_cache);

    pub fn hc_put(cache: *mut hc_cache, key: *const c_void, klen: usize, val: *const c_void, vlen: usize)
        -> c_int;
    pub fn hc_get(
        cache: *mut hc_cache,
        key: *const c_void,
        klen: usize,
        buf: *mut c_void,
        cap: usize,
        vlen: *mut usize,
    ) -> c_int;
    pub fn hc_read(cache: *mut hc_cache, key: *const c_void, klen: usize, f: hc_read_fn, arg: *mut c_void)
        -> c_int;
    pub fn hc_read_batch(
        cache: *mut hc_cache,
        n: usize,
        keys: *const *const c_void,
        klens: *const usize,
        f: hc_batch_fn,
        arg: *mut c_void,
    ) -> c_int;
    pub fn hc_delete(cache: *mut hc_cache, key: *const c_void, klen: usize) -> c_int;

    pub fn hc_kel_append(cache: *mut hc_cache, msg: *const c_void, len: usize, consumed: *mut usize)
        -> c_int;
    pub fn hc_kel_import_sized(
        cache: *mut hc_cache,
        stream: *const c_void,
        len: usize,
        report: *mut hc_kel_report,
        size: usize,
    ) -> c_int;
    pub fn hc_keystate_get_sized(
        cache: *mut hc_cache,
        prefix: *const c_char,
        state: *mut hc_keystate,
        size: usize,
    ) -> c_int;
    pub fn hc_keystate_json(
        cache: *mut hc_cache,
        prefix: *const c_char,
        buf: *mut c_char,
        cap: usize,
        len: *mut usize,
    ) -> c_int;
    pub fn hc_kel_verify(cache: *mut hc_cache, prefix: *const c_char, events: *mut u64) -> c_int;
    pub fn hc_kel_repair(cache: *mut hc_cache, prefix: *const c_char, events: *mut u64, rewritten: *mut c_int)
        -> c_int;
    pub fn hc_kel_duplicity(
        cache: *mut hc_cache,
        prefix: *const c_char,
        f: hc_kel_duplicity_fn,
        arg: *mut c_void,
        count: *mut u64,
    ) -> c_int;
    pub fn hc_kel_set_local(
        cache: *mut hc_cache,
        own: *const *const c_char,
        n_own: usize,
        wit: *const *const c_char,
        n_wit: usize,
    ) -> c_int;
    pub fn hc_kel_receipts(
        cache: *mut hc_cache,
        prefix: *const c_char,
        sn: u64,
        f: hc_kel_receipt_fn,
        arg: *mut c_void,
        count: *mut u64,
    ) -> c_int;
    pub fn hc_kel_export(
        cache: *mut hc_cache,
        prefix: *const c_char,
        f: hc_kel_export_fn,
        arg: *mut c_void,
        events: *mut u64,
    ) -> c_int;
    pub fn hc_kel_export_first_seen(
        cache: *mut hc_cache,
        prefix: *const c_char,
        f: hc_kel_export_fn,
        arg: *mut c_void,
        events: *mut u64,
    ) -> c_int;

    pub fn hc_stats_sized(cache: *mut hc_cache, stats: *mut hc_stats, size: usize) -> c_int;
    pub fn hc_shard_stats_sized(
        cache: *mut hc_cache,
        shard: c_uint,
        stats: *mut hc_shard_stats,
        size: usize,
    ) -> c_int;
    pub fn hc_thread_detach(cache: *mut hc_cache);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{size_of, MaybeUninit};

    // The offset of a field, from a pointer into an uninitialised value (std has no
    // offset_of! on rustc 1.63).
    macro_rules! off {
        ($t:ty, $f:ident) => {{
            let u = MaybeUninit::<$t>::uninit();
            let base = u.as_ptr();
            // SAFETY: addr_of! computes the address without reading the value.
            let field = unsafe { std::ptr::addr_of!((*base).$f) };
            field as usize - base as usize
        }};
    }

    // The figures are gcc's for include/hotcache.h 0.2.0 on x86-64 and aarch64 (LP64):
    // a field out of place here is a field the library reads from somewhere else.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn layouts_match_the_c_header() {
        assert_eq!(size_of::<hc_config>(), 6072);
        assert_eq!(off!(hc_config, keri_escrow_limit), 3176);
        assert_eq!(off!(hc_config, keri_escrow_timeout), 3184);
        assert_eq!(off!(hc_config, keri_own), 3192);
        assert_eq!(off!(hc_config, keri_witness), 4632);
        assert_eq!(off!(hc_config, log_fn), 2120);
        assert_eq!(off!(hc_config, log_arg), 2128);
        assert_eq!(off!(hc_config, open_mode), 2136);
        assert_eq!(off!(hc_config, store_log_level), 2140);
        assert_eq!(off!(hc_config, store_log_dir), 2144);
        assert_eq!(off!(hc_config, key_file_permissive), 3168);
        assert_eq!(off!(hc_config, memory_limit), 8);
        assert_eq!(off!(hc_config, shards), 16);
        assert_eq!(off!(hc_config, max_entry), 24);
        assert_eq!(off!(hc_config, expected_entries), 32);
        assert_eq!(off!(hc_config, backing_mode), 40);
        assert_eq!(off!(hc_config, backing_path), 44);
        assert_eq!(off!(hc_config, durability), 1068);
        assert_eq!(off!(hc_config, block_cache), 1072);
        assert_eq!(off!(hc_config, write_buffer), 1080);
        assert_eq!(off!(hc_config, create_if_missing), 1088);
        assert_eq!(off!(hc_config, key_file), 1092);

        assert_eq!(size_of::<hc_stats>(), 352);
        assert_eq!(off!(hc_stats, reclaim_fenced), 336);
        assert_eq!(off!(hc_stats, reclaim_mode_switches), 344);
        assert_eq!(off!(hc_stats, escrowed), 240);
        assert_eq!(off!(hc_stats, escrow_entries), 280);
        assert_eq!(off!(hc_stats, reclaim_barriers), 288);
        assert_eq!(off!(hc_stats, shard_lock_hold_nanos), 328);
        assert_eq!(off!(hc_stats, reclaim_failures), 232);
        assert_eq!(off!(hc_stats, store_corrupt), 136);
        assert_eq!(off!(hc_stats, store_sst_bytes), 168);
        assert_eq!(off!(hc_stats, load_not_found), 176);
        assert_eq!(off!(hc_stats, keystate_evictions), 224);
        assert_eq!(off!(hc_stats, hits), 8);
        assert_eq!(off!(hc_stats, slack_bytes), 120);
        assert_eq!(off!(hc_stats, shards), 128);
        assert_eq!(size_of::<hc_shard_stats>(), 80);
        assert_eq!(off!(hc_shard_stats, main_entries), 72);

        assert_eq!(size_of::<hc_keystate>(), 6312);
        assert_eq!(off!(hc_keystate, di), 6264);
        assert_eq!(off!(hc_keystate, prefix), 4);
        assert_eq!(off!(hc_keystate, sn), 56);
        assert_eq!(off!(hc_keystate, said), 64);
        assert_eq!(off!(hc_keystate, prior), 109);
        assert_eq!(off!(hc_keystate, ilk), 154);
        assert_eq!(off!(hc_keystate, dt), 158);
        assert_eq!(off!(hc_keystate, kt), 198);
        assert_eq!(off!(hc_keystate, nt), 1032);
        assert_eq!(off!(hc_keystate, nkeys), 1868);
        assert_eq!(off!(hc_keystate, keys), 1880);
        assert_eq!(off!(hc_keystate, next), 3320);
        assert_eq!(off!(hc_keystate, bt), 4760);
        assert_eq!(off!(hc_keystate, wits), 4764);
        assert_eq!(off!(hc_keystate, est_sn), 6208);
        assert_eq!(off!(hc_keystate, est_said), 6216);

        assert_eq!(size_of::<hc_kel_event>(), 64);
        assert_eq!(off!(hc_kel_event, offset), 8);
        assert_eq!(off!(hc_kel_event, outcome), 24);
        assert_eq!(off!(hc_kel_event, code), 28);
        assert_eq!(off!(hc_kel_event, prefix), 32);
        assert_eq!(off!(hc_kel_event, sn), 40);
        assert_eq!(off!(hc_kel_event, ilk), 48);
        assert_eq!(off!(hc_kel_event, why), 56);

        assert_eq!(size_of::<hc_kel_report>(), 96);
        assert_eq!(off!(hc_kel_report, escrowed), 80);
        assert_eq!(off!(hc_kel_report, promoted), 88);
        assert_eq!(off!(hc_kel_report, messages), 8);
        assert_eq!(off!(hc_kel_report, first_error), 48);
        assert_eq!(off!(hc_kel_report, first_error_offset), 56);
        assert_eq!(off!(hc_kel_report, on_event), 64);
        assert_eq!(off!(hc_kel_report, arg), 72);

        assert_eq!(size_of::<hc_kel_receipt>(), 48);
        assert_eq!(off!(hc_kel_receipt, kind), 4);
        assert_eq!(off!(hc_kel_receipt, receiptor), 8);
        assert_eq!(off!(hc_kel_receipt, index), 16);
        assert_eq!(off!(hc_kel_receipt, signature), 24);
        assert_eq!(off!(hc_kel_receipt, est_sn), 32);
        assert_eq!(off!(hc_kel_receipt, est_said), 40);
    }
}
