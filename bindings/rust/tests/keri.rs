//! keripy's direct-mode vector (icp, rot, ixn) imported into a RocksDB-backed cache:
//! the final state keripy asserts, the KeyStateRecord JSON, duplicates on a second
//! import, a rejection with its code, and the state after a reopen.
mod common;

use std::path::PathBuf;

use common::{open_rocks, TempDir};
use hotcache::{Error, Outcome};

const PREFIX: &str = "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL";

fn vector(name: &str) -> Vec<u8> {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "tests", "data", "keri", name]
        .iter()
        .collect();
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {}", p.display(), e))
}

#[test]
fn direct_mode_vector_imports_to_keripys_final_state() {
    let dir = TempDir::new("keri");
    let stream = vector("01_direct_mode_coe_icp_rot_ixn.cesr");
    {
        let c = open_rocks(&dir, "8 MiB");
        assert_eq!(c.keystate(PREFIX).unwrap(), None);
        assert_eq!(c.keystate_json(PREFIX).unwrap(), None);

        let rep = c.kel_import(&stream).unwrap();
        assert_eq!((rep.messages, rep.accepted, rep.rejected), (3, 3, 0), "{:?}", rep);
        let ilks: Vec<&str> = rep.events.iter().map(|e| e.ilk.as_str()).collect();
        assert_eq!(ilks, ["icp", "rot", "ixn"]);
        for (i, e) in rep.events.iter().enumerate() {
            assert_eq!(e.outcome, Outcome::Accepted);
            assert_eq!(e.prefix, PREFIX);
            assert_eq!(e.sn, i as u64);
        }
        assert_eq!(rep.events[0].offset, 0);
        assert_eq!(rep.events[2].offset + rep.events[2].len, stream.len());

        let ks = c.keystate(PREFIX).unwrap().unwrap();
        assert_eq!(ks.prefix, PREFIX);
        assert_eq!(ks.sn, 2);
        assert_eq!(ks.ilk, "ixn");
        assert!(ks.said.starts_with("EG3O9AV3"), "{:?}", ks);
        assert!(ks.prior.starts_with("EKlC013X"), "{:?}", ks);
        assert_eq!(ks.keys.len(), 1);
        assert!(ks.keys[0].starts_with("DIR7b_v2"), "{:?}", ks);
        assert_eq!(ks.next.len(), 1);
        assert!(ks.next[0].starts_with("ED9O5NCp"), "{:?}", ks);
        assert_eq!((ks.kt.as_str(), ks.nt.as_str()), ("\"1\"", "\"1\""));
        assert_eq!(ks.est_sn, 1);
        assert!(ks.est_said.starts_with("EKlC013X"), "{:?}", ks);
        assert!(ks.wits.is_empty());

        let json = c.keystate_json(PREFIX).unwrap().unwrap();
        assert!(json.starts_with("{\"vn\":[1,0],\"i\":\""), "{}", json);
        assert!(json.contains(&format!("\"i\":\"{}\",\"s\":\"2\"", PREFIX)), "{}", json);
        assert!(json.contains(&format!("\"d\":\"{}\"", ks.said)), "{}", json);
        assert!(!json.contains('\n'));

        assert_eq!(c.kel_verify(PREFIX).unwrap(), 3);

        // The same stream again: every message a duplicate, nothing changes.
        let again = c.kel_import(&stream).unwrap();
        assert_eq!((again.messages, again.duplicates), (3, 3), "{:?}", again);
        assert_eq!(c.keystate(PREFIX).unwrap().unwrap().said, ks.said);

        // One message at a time through kel_append, with its length.
        let (n, r) = c.kel_append(&stream);
        r.unwrap();
        assert_eq!(n, rep.events[0].len);
    }
    // The state is the store's, not just memory's.
    let c = open_rocks(&dir, "8 MiB");
    assert_eq!(c.keystate(PREFIX).unwrap().unwrap().sn, 2);
}

#[test]
fn a_tampered_signature_is_rejected_with_its_keri_code_and_the_stream_goes_on() {
    let mut stream = vector("01_direct_mode_coe_icp_rot_ixn.cesr");
    // The inception's extent: the JSON body (its size is in the version string
    // KERI10JSON<6 hex>_) and its attachment, -AAB and one 88-character signature.
    let v = stream.windows(10).position(|w| w == b"KERI10JSON").unwrap() + 10;
    let body = usize::from_str_radix(std::str::from_utf8(&stream[v..v + 6]).unwrap(), 16).unwrap();
    let first_len = body + 4 + 88;
    assert_eq!(&stream[body..body + 4], b"-AAB");
    // Flip one character inside the signature (not its two-character code).
    let at = body + 4 + 40;
    stream[at] = if stream[at] == b'A' { b'B' } else { b'A' };

    let dir = TempDir::new("keri-bad");
    let c = open_rocks(&dir, "8 MiB");
    let rep = c.kel_import(&stream).unwrap();
    assert_eq!((rep.messages, rep.accepted, rep.rejected, rep.escrowed), (3, 0, 1, 2), "{:?}", rep);
    assert_eq!(rep.events[0].len, first_len);
    match &rep.events[0].outcome {
        Outcome::Rejected(Error::Keri { code, detail }) => {
            assert_eq!(*code, -109, "{}", detail); // HC_EKERI_SIG
            assert!(!detail.is_empty());
        }
        o => panic!("expected a KERI rejection, got {:?}", o),
    }
    // rot and ixn were still read (the stream went on) and, with no state to apply to
    // yet, wait in the escrow as out of order (HC_EKERI_SN).
    assert_eq!(rep.events[1].offset, first_len);
    assert!(matches!(rep.events[1].outcome, Outcome::Escrowed(Error::Keri { code: -112, .. })));
    assert_eq!(rep.first_rejection().unwrap().offset, 0);
    assert_eq!(c.keystate(PREFIX).unwrap(), None);

    let (n, r) = c.kel_append(&stream);
    assert_eq!(n, first_len);
    match r {
        Err(e @ Error::Keri { code: -109, .. }) => {
            assert!(e.to_string().contains("HC_EKERI_SIG"), "{}", e)
        }
        r => panic!("expected HC_EKERI_SIG, got {:?}", r),
    }
}

#[test]
fn keripys_delegation_vector_gives_the_delegate_its_delegator() {
    const BOB: &str = "EA_SbBUZYwqLVlAAn14d6QUBQCSReJlZ755JqTgmRhXH";
    const DEL: &str = "EHng2fV42DdKb5TLMIs6bbjFkPNmIdQ5mSFn6BTnySJj";
    let dir = TempDir::new("keri-deleg");
    let stream = vector("16_delegation_bob_del.cesr");
    let c = open_rocks(&dir, "8 MiB");
    let rep = c.kel_import(&stream).unwrap();
    assert_eq!((rep.messages, rep.accepted), (5, 5), "{:?}", rep);
    let ilks: Vec<&str> = rep.events.iter().map(|e| e.ilk.as_str()).collect();
    assert_eq!(ilks, ["icp", "ixn", "dip", "ixn", "drt"]);
    let ks = c.keystate(DEL).unwrap().unwrap();
    assert_eq!((ks.ilk.as_str(), ks.sn, ks.di.as_str()), ("drt", 1, BOB));
    assert_eq!(c.keystate(BOB).unwrap().unwrap().di, "");
    let json = c.keystate_json(DEL).unwrap().unwrap();
    assert!(json.ends_with(&format!(",\"di\":\"{}\"}}", BOB)), "{}", json);
}
