//! Every model file through the one dispatch (src/io/dispatch.rs): the native
//! format, Keras `.keras` (zip + config JSON + HDF5) and legacy `.h5`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lstmkit::io::load_bytes(data.to_vec(), std::path::Path::new("fuzz.model"));
});
