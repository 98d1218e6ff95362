//! Experiment files (src/experiment/): parsing and validation of any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = lstmkit::experiment::Experiment::from_toml_str(text, "fuzz.toml");
    }
});
