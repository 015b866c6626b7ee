//! The KERI calls beyond import and key state: receipts, local prefixes, exports,
//! duplicity evidence and repair, over the own signed streams of tests/data/keri-own
//! (generated from fixed seeds by tests/tools/keri_fixtures.c; its README says what
//! each holds).
mod common;

use std::path::PathBuf;

use common::{open_rocks, TempDir};
use hotcache::{Error, Outcome, ReceiptKind};

fn own(name: &str) -> Vec<u8> {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "tests", "data", "keri-own", name]
        .iter()
        .collect();
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {}", p.display(), e))
}

// The `i` of the first event of a stream.
fn prefix_of(stream: &[u8]) -> String {
    let at = stream.windows(5).position(|w| w == b"\"i\":\"").unwrap() + 5;
    String::from_utf8(stream[at..at + 44].to_vec()).unwrap()
}

#[test]
fn witness_receipts_are_listed_after_they_promote_the_event() {
    let dir = TempDir::new("kel-rct");
    let c = open_rocks(&dir, "8 MiB");
    let icp = own("witnessed_icp_bare.cesr");
    let pre = prefix_of(&icp);
    assert_eq!(c.kel_receipts(&pre, 0).unwrap(), None);
    // bt 2 and no witness signature: a remote event waits.
    let rep = c.kel_import(&icp).unwrap();
    assert!(matches!(rep.events[0].outcome, Outcome::Escrowed(Error::Keri { code: -130, .. })), "{:?}", rep); // HC_EKERI_UNWITNESSED
    assert_eq!(c.keystate(&pre).unwrap(), None);
    let rep = c.kel_import(&own("witness_receipts.cesr")).unwrap();
    assert_eq!((rep.messages, rep.rejected), (3, 0), "{:?}", rep);
    assert_eq!(c.keystate(&pre).unwrap().unwrap().sn, 0);

    let r = c.kel_receipts(&pre, 0).unwrap().unwrap();
    assert_eq!(r.len(), 3, "{:?}", r);
    let wits = c.keystate(&pre).unwrap().unwrap().wits;
    let mut witness: Vec<(u32, &str)> = r
        .iter()
        .filter(|x| x.kind == ReceiptKind::Witness)
        .map(|x| (x.index, x.receiptor.as_str()))
        .collect();
    witness.sort();
    assert_eq!(witness, [(0, wits[0].as_str()), (1, wits[1].as_str())]);
    // Witness receipts first; then the watcher's couple.
    assert_eq!(r[2].kind, ReceiptKind::NonTransferable);
    assert!(r[2].receiptor.starts_with('B') && !wits.contains(&r[2].receiptor));
    assert!(r[2].signature.starts_with("0B") && r[2].signature.len() == 88, "{:?}", r[2]);
    assert!(r.iter().all(|x| x.est_sn == 0 && x.est_said.is_empty()));
    // No event at sn 1; a prefix that is not 44 characters.
    assert_eq!(c.kel_receipts(&pre, 1).unwrap(), None);
    assert!(matches!(c.kel_receipts("short", 0), Err(Error::Invalid(_))));
}

#[test]
fn a_local_prefix_is_accepted_without_witness_receipts() {
    let icp = own("witnessed_icp_bare.cesr");
    let pre = prefix_of(&icp);
    let dir = TempDir::new("kel-local");
    let c = open_rocks(&dir, "8 MiB");
    // Bad lists change nothing.
    assert!(matches!(c.kel_set_local(&["short"], &[]), Err(Error::Invalid(_))));
    let many = vec![pre.as_str(); 33];
    assert!(matches!(c.kel_set_local(&many, &[]), Err(Error::Invalid(_))));
    assert!(matches!(c.kel_set_local(&["a\0b"], &[]), Err(Error::Invalid(_))));
    c.kel_set_local(&[pre.as_str()], &[]).unwrap();
    let rep = c.kel_import(&icp).unwrap();
    assert_eq!(rep.events[0].outcome, Outcome::Accepted, "{:?}", rep);
    assert_eq!(c.keystate(&pre).unwrap().unwrap().bt, 2);

    // Control: the lists emptied again, the same event waits in another store.
    let dir2 = TempDir::new("kel-remote");
    let d = open_rocks(&dir2, "8 MiB");
    d.kel_set_local(&[pre.as_str()], &[]).unwrap();
    d.kel_set_local(&[], &[]).unwrap();
    let rep = d.kel_import(&icp).unwrap();
    assert!(matches!(rep.events[0].outcome, Outcome::Escrowed(_)), "{:?}", rep);
}

#[test]
fn exports_duplicity_and_repair_after_a_recovery_rotation() {
    let stream = own("recovery_duplicity.cesr");
    let pre = prefix_of(&stream);
    let dir = TempDir::new("kel-rec");
    let c = open_rocks(&dir, "8 MiB");
    let rep = c.kel_import(&stream).unwrap();
    assert_eq!((rep.messages, rep.accepted, rep.rejected), (5, 4, 1), "{:?}", rep);
    assert!(matches!(rep.events[4].outcome, Outcome::Rejected(Error::Keri { code: -113, .. })), "{:?}", rep); // HC_EKERI_DUPLICITY
    let ks = c.keystate(&pre).unwrap().unwrap();
    assert_eq!((ks.sn, ks.ilk.as_str()), (1, "rot"));

    // The accepted branch: icp, rot. First-seen: icp, ixn, ixn, rot, as received.
    let branch = c.kel_export(&pre).unwrap().unwrap();
    assert_eq!(branch.len(), 2);
    assert_eq!(branch[0], rep_slice(&stream, &rep, 0));
    assert_eq!(branch[1], rep_slice(&stream, &rep, 3));
    let fs = c.kel_export_first_seen(&pre).unwrap().unwrap();
    assert_eq!(fs.len(), 4);
    for (i, m) in fs.iter().enumerate() {
        assert_eq!(*m, rep_slice(&stream, &rep, i));
    }
    let unknown = "E".to_string() + &"A".repeat(43);
    assert_eq!(c.kel_export(&unknown).unwrap(), None);
    assert_eq!(c.kel_export_first_seen(&unknown).unwrap(), None);

    // Re-imported into an empty store, the first-seen stream reaches the same state.
    let dir2 = TempDir::new("kel-rec2");
    let d = open_rocks(&dir2, "8 MiB");
    let again = d.kel_import(&fs.concat()).unwrap();
    assert_eq!(again.accepted, 4, "{:?}", again);
    // The same state but for dt, the time this store first saw the last event.
    let mut ks2 = d.keystate(&pre).unwrap().unwrap();
    ks2.dt = ks.dt.clone();
    assert_eq!(ks2, ks);

    // The conflicting rot: both events, as received, signed.
    let dup = c.kel_duplicity(&pre).unwrap();
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].sn, 1);
    assert_eq!(dup[0].held, rep_slice(&stream, &rep, 3));
    assert_eq!(dup[0].other, rep_slice(&stream, &rep, 4));
    assert!(d.kel_duplicity(&pre).unwrap().is_empty());
    assert!(c.kel_duplicity(&unknown).unwrap().is_empty());

    // A state that agrees with its KEL is left as it is.
    let r = c.kel_repair(&pre).unwrap();
    assert_eq!((r.events, r.rewritten), (4, false));
    assert!(c.kel_repair(&unknown).is_err());
}

fn rep_slice(stream: &[u8], rep: &hotcache::KelReport, i: usize) -> Vec<u8> {
    let e = &rep.events[i];
    stream[e.offset..e.offset + e.len].to_vec()
}
