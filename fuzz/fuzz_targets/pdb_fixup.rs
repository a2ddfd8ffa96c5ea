//! The PDB fix-up on a copy in memory. Input: a little-endian u32 length, that many bytes of
//! PDB, then the object the PDB's module `hot.obj` was linked from. A fix-up that wrote
//! something must leave a PDB whose second fix-up restores nothing and changes no byte.
#![no_main]

use hotpatch_cl::pdb::fixup_bytes;
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (pdb, obj) = rest.split_at(len);
    let objects = || vec![(PathBuf::from("hot.obj"), obj.to_vec())];
    let Ok((report, fixed)) = fixup_bytes(Path::new("hot.pdb"), pdb, objects()) else {
        return;
    };
    if !report.written {
        assert!(fixed == pdb, "nothing written, yet the bytes changed");
        return;
    }
    match fixup_bytes(Path::new("hot.pdb"), &fixed, objects()) {
        Ok((again, same)) => {
            assert!(
                again.restored.is_empty(),
                "second fix-up restored {:?}",
                again.restored
            );
            assert!(same == fixed, "second fix-up changed the PDB");
        }
        Err(e) => panic!("the fixed PDB does not read back: {e}"),
    }
});
