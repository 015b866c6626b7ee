//! KERI: appending and importing key event logs, reading key state.

use std::ffi::CString;
use std::mem::{size_of, MaybeUninit};
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::cache::Cache;
use crate::error::{check, cstr, Error, Result};
use crate::ffi;

/// What happened to one message of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Validated, stored, state updated.
    Accepted,
    /// The same event was already accepted: no change.
    Duplicate,
    /// An `rct` receipt: its verified signatures stored.
    Receipt,
    /// Kept in the escrow until what it lacks arrives: the reason (out of order,
    /// partially signed, partially witnessed, receipt of an unseen event).
    Escrowed(Error),
    /// Refused: an `Error::Keri` naming the rule (or the store's error).
    Rejected(Error),
}

/// One message of an imported stream (`struct hc_kel_event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KelEvent {
    /// Where the message stands in the stream, in bytes.
    pub offset: usize,
    /// Its length (0 when its extent could not be determined).
    pub len: usize,
    pub outcome: Outcome,
    /// The identifier ("" when the message did not parse that far).
    pub prefix: String,
    pub sn: u64,
    /// "icp", "rot", "ixn", ... ("" when unknown).
    pub ilk: String,
}

/// The whole of an import (`struct hc_kel_report`), one event per message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KelReport {
    pub messages: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub receipts: u64,
    pub rejected: u64,
    /// Messages put in the escrow, and escrowed messages promoted during the import.
    pub escrowed: u64,
    pub promoted: u64,
    /// Every message's outcome, in stream order.
    pub events: Vec<KelEvent>,
}

impl KelReport {
    /// The first rejection, if any.
    pub fn first_rejection(&self) -> Option<&KelEvent> {
        self.events.iter().find(|e| matches!(e.outcome, Outcome::Rejected(_)))
    }
}

/// An identifier's current key state (the fields of keripy's KeyStateRecord).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    /// `i`
    pub prefix: String,
    /// `s`
    pub sn: u64,
    /// `d`: SAID of the last event
    pub said: String,
    /// `p`
    pub prior: String,
    /// `et`: icp, rot, ixn, dip or drt
    pub ilk: String,
    /// When the last event was first seen (ISO-8601).
    pub dt: String,
    /// `kt`, as JSON text ("1", `["1/2","1/2"]`)
    pub kt: String,
    /// `nt`, as JSON text
    pub nt: String,
    /// `k`: current signing keys
    pub keys: Vec<String>,
    /// `n`: digests of the next keys
    pub next: Vec<String>,
    /// `bt`
    pub bt: u32,
    /// `b`: witnesses
    pub wits: Vec<String>,
    /// `ee.s`: last establishment event's sn
    pub est_sn: u64,
    /// `ee.d`
    pub est_said: String,
    /// `di`: the delegator's prefix, "" when the identifier is not delegated
    pub di: String,
}

fn text(a: &[c_char]) -> String {
    let bytes: Vec<u8> = a.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn prefix_c(prefix: &str) -> Result<CString> {
    CString::new(prefix).map_err(|_| Error::Invalid("prefix holds a NUL byte".into()))
}

struct ImportCall {
    events: Vec<KelEvent>,
    panicked: bool,
}

// The end of a field of the library-owned event: present only when ev->size covers it.
fn covers(ev: &ffi::hc_kel_event, end: usize) -> bool {
    ev.size as usize >= end
}

unsafe extern "C" fn import_trampoline(ev: *const ffi::hc_kel_event, arg: *mut c_void) {
    let call = &mut *(arg as *mut ImportCall);
    if call.panicked || ev.is_null() {
        return;
    }
    let ev = &*ev;
    // Building the event allocates; an allocation failure aborts, a bug would panic:
    // neither may unwind into C.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // Every field is in 0.2.0, the oldest library this crate can meet; check anyway.
        if !covers(ev, size_of::<ffi::hc_kel_event>()) {
            return None;
        }
        let outcome = match ev.outcome {
            ffi::HC_KEL_ACCEPTED => Outcome::Accepted,
            ffi::HC_KEL_DUPLICATE => Outcome::Duplicate,
            ffi::HC_KEL_RECEIPT => Outcome::Receipt,
            ffi::HC_KEL_ESCROWED => Outcome::Escrowed(Error::from_code(ev.code, cstr(ev.why))),
            _ => Outcome::Rejected(Error::from_code(ev.code, cstr(ev.why))),
        };
        Some(KelEvent {
            offset: ev.offset,
            len: ev.len,
            outcome,
            prefix: cstr(ev.prefix),
            sn: ev.sn,
            ilk: cstr(ev.ilk),
        })
    }));
    match r {
        Ok(Some(e)) => call.events.push(e),
        Ok(None) => {}
        Err(_) => call.panicked = true,
    }
}

impl Cache {
    /// Appends one KERI message (a v1 JSON event and its CESR attachments) at the
    /// start of `msg` (`hc_kel_append`). Returns the message's length whenever it
    /// could be determined (so a caller can walk a stream past a rejection) and the
    /// result: `Ok` for an accepted event, a duplicate or a receipt (the C call does not
    /// tell them apart: use [`Cache::kel_import`] for per-message outcomes),
    /// `Error::Keri` for a rejection, `Error::NotSupported` without a store.
    pub fn kel_append(&self, msg: &[u8]) -> (usize, Result<()>) {
        let mut consumed = 0usize;
        // SAFETY: msg outlives the call; consumed receives the length.
        let rc = unsafe {
            ffi::hc_kel_append(self.as_raw(), msg.as_ptr() as *const c_void, msg.len(), &mut consumed)
        };
        (consumed, check(rc))
    }

    /// Appends every message of a CESR stream, in order, going on past rejected ones
    /// where their extent is known (`hc_kel_import`). Rejections are outcomes in the
    /// report, not an `Err`: `Err` is for the call itself (no store, I/O, memory).
    pub fn kel_import(&self, stream: &[u8]) -> Result<KelReport> {
        let mut call = ImportCall { events: Vec::new(), panicked: false };
        let mut rep = ffi::hc_kel_report {
            size: size_of::<ffi::hc_kel_report>() as u32,
            messages: 0,
            accepted: 0,
            duplicates: 0,
            receipts: 0,
            rejected: 0,
            first_error: 0,
            first_error_offset: 0,
            on_event: Some(import_trampoline),
            arg: &mut call as *mut ImportCall as *mut c_void,
            escrowed: 0,
            promoted: 0,
        };
        // SAFETY: stream outlives the call; rep is a whole report of the size passed and
        // its arg points at `call` until the call returns.
        let rc = unsafe {
            ffi::hc_kel_import_sized(
                self.as_raw(),
                stream.as_ptr() as *const c_void,
                stream.len(),
                &mut rep,
                size_of::<ffi::hc_kel_report>(),
            )
        };
        if rc != 0 && !(ffi::HC_EKERI_LAST..=ffi::HC_EKERI_FIRST).contains(&rc) {
            return Err(Error::last(rc));
        }
        if call.panicked {
            return Err(Error::NoMemory("kel_import: could not record an event".into()));
        }
        Ok(KelReport {
            messages: rep.messages,
            accepted: rep.accepted,
            duplicates: rep.duplicates,
            receipts: rep.receipts,
            rejected: rep.rejected,
            escrowed: rep.escrowed,
            promoted: rep.promoted,
            events: call.events,
        })
    }

    /// The current key state of `prefix` (44-character qb64), or `None` if unknown.
    pub fn keystate(&self, prefix: &str) -> Result<Option<KeyState>> {
        let p = prefix_c(prefix)?;
        let mut ks: Box<MaybeUninit<ffi::hc_keystate>> = Box::new(MaybeUninit::zeroed());
        // SAFETY: ks is a whole zeroed hc_keystate of the size passed.
        let rc = unsafe {
            ffi::hc_keystate_get_sized(self.as_raw(), p.as_ptr(), ks.as_mut_ptr(), size_of::<ffi::hc_keystate>())
        };
        if rc == ffi::HC_ENOTFOUND {
            return Ok(None);
        }
        check(rc)?;
        // SAFETY: zeroed then filled by the library: every byte pattern is valid here.
        let k = unsafe { ks.assume_init_ref() };
        let list = |a: &[ffi::Qb64], n: u32| -> Vec<String> {
            a.iter().take((n as usize).min(a.len())).map(|q| text(q)).collect()
        };
        Ok(Some(KeyState {
            prefix: text(&k.prefix),
            sn: k.sn,
            said: text(&k.said),
            prior: text(&k.prior),
            ilk: text(&k.ilk),
            dt: text(&k.dt),
            kt: text(&k.kt),
            nt: text(&k.nt),
            keys: list(&k.keys, k.nkeys),
            next: list(&k.next, k.nnext),
            bt: k.bt,
            wits: list(&k.wits, k.nwits),
            est_sn: k.est_sn,
            est_said: text(&k.est_said),
            di: text(&k.di),
        }))
    }

    /// keripy's KeyStateRecord JSON for `prefix` (compact, one line), or `None`.
    pub fn keystate_json(&self, prefix: &str) -> Result<Option<String>> {
        let p = prefix_c(prefix)?;
        let mut buf: Vec<u8> = vec![0; 2048];
        loop {
            let mut len = 0usize;
            // SAFETY: buf has buf.len() bytes; len receives the JSON's length.
            let rc = unsafe {
                ffi::hc_keystate_json(
                    self.as_raw(),
                    p.as_ptr(),
                    buf.as_mut_ptr() as *mut c_char,
                    buf.len(),
                    &mut len,
                )
            };
            match rc {
                0 => {
                    buf.truncate(len);
                    return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
                }
                ffi::HC_ENOTFOUND => return Ok(None),
                ffi::HC_ERANGE if len + 1 > buf.len() => buf.resize(len + 1, 0),
                code => return Err(Error::last(code)),
            }
        }
    }

    /// Replays `prefix`'s stored KEL from inception, verifying every event again, and
    /// compares the result with the stored state (`hc_kel_verify`). The number of events
    /// replayed; `Error::Corrupt` when they disagree.
    pub fn kel_verify(&self, prefix: &str) -> Result<u64> {
        let p = prefix_c(prefix)?;
        let mut n = 0u64;
        // SAFETY: p outlives the call; n receives the count.
        check(unsafe { ffi::hc_kel_verify(self.as_raw(), p.as_ptr(), &mut n) })?;
        Ok(n)
    }
}

/// Who signed a receipt (`enum hc_kel_receipt_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// A witness of the event (`-B`, or a `-C` couple of one): `index` is its place in
    /// the event's witness list.
    Witness,
    /// Another non-transferable receiptor (`-C`), a watcher.
    NonTransferable,
    /// A transferable receiptor (`-D`, `-F`): `index` is the key's index in the
    /// receiptor's establishment event `est_sn`, `est_said`.
    Transferable,
    /// A kind this crate does not know (a newer library).
    Other(i32),
}

/// One verified receipt of an accepted event (`struct hc_kel_receipt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub kind: ReceiptKind,
    /// The signer's prefix (the witness's, for a witness).
    pub receiptor: String,
    pub index: u32,
    /// qb64: an indexed signature (witness, transferable) or a `0B` signature.
    pub signature: String,
    /// Transferable receipts only: the receiptor's establishment event (0 and "" else).
    pub est_sn: u64,
    pub est_said: String,
}

/// Signed duplicity evidence (`hc_kel_duplicity`): at `sn`, the event accepted when
/// the conflict arrived and the conflicting one, each as received with its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicity {
    pub sn: u64,
    pub held: Vec<u8>,
    pub other: Vec<u8>,
}

/// What [`Cache::kel_repair`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repair {
    /// Events replayed, superseded ones included.
    pub events: u64,
    /// True when the stored state differed from the replay and was rewritten.
    pub rewritten: bool,
}

// The walks below (receipts, duplicity, exports) copy what the library hands their
// callback into a Vec. The copy allocates: an allocation failure aborts, a bug would
// panic; a panic must not unwind into C, so it is caught, the walk stopped with
// STOPPED, and the call returns Error::NoMemory as kel_import does.
const STOPPED: c_int = 1;

struct Walk<T> {
    items: Vec<T>,
    panicked: bool,
}

impl<T> Walk<T> {
    fn new() -> Walk<T> {
        Walk { items: Vec::new(), panicked: false }
    }

    // Runs `make` on the callback's data, catching a panic: 0 to go on, STOPPED else.
    fn take<F: FnOnce() -> T>(&mut self, make: F) -> c_int {
        if self.panicked {
            return STOPPED;
        }
        match catch_unwind(AssertUnwindSafe(make)) {
            Ok(t) => {
                self.items.push(t);
                0
            }
            Err(_) => {
                self.panicked = true;
                STOPPED
            }
        }
    }

    // The call's result: the items, `None` on HC_ENOTFOUND, the error otherwise.
    fn finish(self, what: &str, rc: c_int) -> Result<Option<Vec<T>>> {
        if self.panicked {
            return Err(Error::NoMemory(format!("{}: could not record an item", what)));
        }
        match rc {
            0 => Ok(Some(self.items)),
            ffi::HC_ENOTFOUND => Ok(None),
            code => Err(Error::last(code)),
        }
    }
}

// A slice the library lent for the callback's duration, copied.
unsafe fn bytes(p: *const c_void, len: usize) -> Vec<u8> {
    if p.is_null() || len == 0 {
        return Vec::new();
    }
    std::slice::from_raw_parts(p as *const u8, len).to_vec()
}

unsafe extern "C" fn receipt_trampoline(r: *const ffi::hc_kel_receipt, arg: *mut c_void) -> c_int {
    let walk = &mut *(arg as *mut Walk<Option<Receipt>>);
    if r.is_null() {
        return 0;
    }
    let r = &*r;
    walk.take(|| {
        // Every field is in the library that has the call; check anyway.
        if (r.size as usize) < size_of::<ffi::hc_kel_receipt>() {
            return None;
        }
        let kind = match r.kind {
            ffi::HC_RECEIPT_WITNESS => ReceiptKind::Witness,
            ffi::HC_RECEIPT_NONTRANS => ReceiptKind::NonTransferable,
            ffi::HC_RECEIPT_TRANS => ReceiptKind::Transferable,
            k => ReceiptKind::Other(k),
        };
        Some(Receipt {
            kind,
            receiptor: cstr(r.receiptor),
            index: r.index,
            signature: cstr(r.signature),
            est_sn: r.est_sn,
            est_said: cstr(r.est_said),
        })
    })
}

unsafe extern "C" fn duplicity_trampoline(
    sn: u64,
    held: *const c_void,
    hlen: usize,
    other: *const c_void,
    olen: usize,
    arg: *mut c_void,
) -> c_int {
    let walk = &mut *(arg as *mut Walk<Duplicity>);
    walk.take(|| Duplicity { sn, held: bytes(held, hlen), other: bytes(other, olen) })
}

unsafe extern "C" fn export_trampoline(msg: *const c_void, len: usize, arg: *mut c_void) -> c_int {
    let walk = &mut *(arg as *mut Walk<Vec<u8>>);
    walk.take(|| bytes(msg, len))
}

fn prefix_list(list: &[&str]) -> Result<Vec<CString>> {
    if list.len() > ffi::HC_KERI_LOCAL_MAX {
        return Err(Error::Invalid(format!(
            "kel_set_local: at most {} prefixes per list",
            ffi::HC_KERI_LOCAL_MAX
        )));
    }
    list.iter().map(|p| prefix_c(p)).collect()
}

impl Cache {
    /// The verified receipts stored for `prefix`'s accepted event at `sn`
    /// (`hc_kel_receipts`): witness receipts first, by witness prefix, then the others;
    /// `None` when no event of `prefix` is accepted at `sn`.
    pub fn kel_receipts(&self, prefix: &str, sn: u64) -> Result<Option<Vec<Receipt>>> {
        let p = prefix_c(prefix)?;
        let mut walk: Walk<Option<Receipt>> = Walk::new();
        // SAFETY: p outlives the call; arg points at `walk`, of the trampoline's type,
        // until the call returns.
        let rc = unsafe {
            ffi::hc_kel_receipts(
                self.as_raw(),
                p.as_ptr(),
                sn,
                receipt_trampoline,
                &mut walk as *mut Walk<Option<Receipt>> as *mut c_void,
                std::ptr::null_mut(),
            )
        };
        Ok(walk.finish("kel_receipts", rc)?.map(|v| v.into_iter().flatten().collect()))
    }

    /// The signed duplicity evidence kept for `prefix` (`hc_kel_duplicity`), in sn
    /// order; empty when there is none (or the prefix is unknown).
    pub fn kel_duplicity(&self, prefix: &str) -> Result<Vec<Duplicity>> {
        let p = prefix_c(prefix)?;
        let mut walk: Walk<Duplicity> = Walk::new();
        // SAFETY: as in kel_receipts.
        let rc = unsafe {
            ffi::hc_kel_duplicity(
                self.as_raw(),
                p.as_ptr(),
                duplicity_trampoline,
                &mut walk as *mut Walk<Duplicity> as *mut c_void,
                std::ptr::null_mut(),
            )
        };
        Ok(walk.finish("kel_duplicity", rc)?.unwrap_or_default())
    }

    fn export_with(&self, prefix: &str, first_seen: bool) -> Result<Option<Vec<Vec<u8>>>> {
        let p = prefix_c(prefix)?;
        let mut walk: Walk<Vec<u8>> = Walk::new();
        let arg = &mut walk as *mut Walk<Vec<u8>> as *mut c_void;
        // SAFETY: as in kel_receipts.
        let rc = unsafe {
            if first_seen {
                ffi::hc_kel_export_first_seen(self.as_raw(), p.as_ptr(), export_trampoline, arg, std::ptr::null_mut())
            } else {
                ffi::hc_kel_export(self.as_raw(), p.as_ptr(), export_trampoline, arg, std::ptr::null_mut())
            }
        };
        walk.finish("kel_export", rc)
    }

    /// `prefix`'s stored KEL as CESR messages, one per event of the accepted branch in
    /// sn order, each with the attachments it was accepted with (`hc_kel_export`):
    /// what [`Cache::kel_import`] and keripy ingest. `None` when no KEL is stored.
    pub fn kel_export(&self, prefix: &str) -> Result<Option<Vec<Vec<u8>>>> {
        self.export_with(prefix, false)
    }

    /// As [`Cache::kel_export`], in first-seen order with superseded events included
    /// (`hc_kel_export_first_seen`): importing them meets the same recovery rotations.
    pub fn kel_export_first_seen(&self, prefix: &str) -> Result<Option<Vec<Vec<u8>>>> {
        self.export_with(prefix, true)
    }

    /// Verifies `prefix`'s KEL by replay and, when only the stored state differs (a
    /// record restored from an older copy), rewrites it from the replay
    /// (`hc_kel_repair`). A KEL whose events fail the replay is not repaired: that
    /// rejection is the error.
    pub fn kel_repair(&self, prefix: &str) -> Result<Repair> {
        let p = prefix_c(prefix)?;
        let (mut events, mut rewritten) = (0u64, 0 as c_int);
        // SAFETY: p outlives the call; events and rewritten receive the results.
        check(unsafe { ffi::hc_kel_repair(self.as_raw(), p.as_ptr(), &mut events, &mut rewritten) })?;
        Ok(Repair { events, rewritten: rewritten != 0 })
    }

    /// The node's own identifiers and its witness identifiers (`hc_kel_set_local`):
    /// events of these, or witnessed by these, are accepted without waiting for `bt`
    /// witness receipts. Replaces the lists of `keri.own` / `keri.witness` or an earlier
    /// call. Each prefix is 44 qb64 characters, at most 32 per list: `Error::Invalid`
    /// otherwise, and nothing changes.
    pub fn kel_set_local(&self, own: &[&str], witnesses: &[&str]) -> Result<()> {
        let own = prefix_list(own)?;
        let wit = prefix_list(witnesses)?;
        let own_p: Vec<*const c_char> = own.iter().map(|c| c.as_ptr()).collect();
        let wit_p: Vec<*const c_char> = wit.iter().map(|c| c.as_ptr()).collect();
        // SAFETY: the pointer arrays and the strings they point at outlive the call.
        check(unsafe {
            ffi::hc_kel_set_local(self.as_raw(), own_p.as_ptr(), own_p.len(), wit_p.as_ptr(), wit_p.len())
        })
    }
}
