//! The CSV reader with dialect detection (src/data/csv/): any bytes give a frame or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let opts = lstmkit::data::csv::CsvOptions::default();
        let _ = lstmkit::data::csv::parse_csv(text, "fuzz.csv", &opts);
    }
});
