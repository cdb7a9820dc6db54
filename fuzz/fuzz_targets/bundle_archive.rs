//! Pack and bundle archives (`.tar.gz`, `.tar`): never panic, stay within the
//! limits, and a pack that loads builds into a bundle that loads with the
//! same data.

#![no_main]

use cos_policy::PackFiles;
use cos_policy::{Limits, Pack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits so the fuzzer explores them rather than memory.
    let limits = Limits {
        max_files: 64,
        max_file_size: 64 << 10,
        max_total_size: 256 << 10,
        max_decompressed_size: 512 << 10,
        max_path_len: 256,
    };
    let Ok(files) = PackFiles::from_archive(data, &limits) else {
        return;
    };
    assert!(files.len() <= limits.max_files);
    let Ok(pack) = Pack::from_files(files) else {
        return;
    };
    let bundle = pack.build_bundle().expect("a loaded pack builds");
    let back = Pack::from_bytes(&bundle, &Limits::default()).expect("our bundle loads");
    assert_eq!(back.data(), pack.data());
});
