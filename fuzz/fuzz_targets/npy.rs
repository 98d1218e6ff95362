//! `.npy` arrays (src/io/npy.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lstmkit::io::npy::from_bytes(data, "fuzz.npy");
});
