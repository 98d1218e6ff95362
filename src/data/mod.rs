//! The data pipeline: CSV → scaled (optionally differenced) sliding windows,
//! split chronologically into train / validation / test, and back to
//! original units for every reported number.
//!
//! # Pipeline ([`prepare`])
//! The same steps as the reference (`../shared/bench/common.py`, used for
//! Keras' figures), on the **rows** of the file:
//! 1. load the CSV ([`load_csv`]): the target and feature columns, the time
//!    column as text;
//! 2. chronological split of the rows: the first
//!    `n_train = floor((1 - test_split) * n_rows)` rows are the training
//!    part, the rest the test part;
//! 3. with `difference = 1`, every column (features and targets) is replaced
//!    by its first difference `x[r] - x[r-1]` (row 0 has none, so the
//!    training part loses its first row; the test part's first difference uses
//!    the last training row, which is past data);
//! 4. the scaler is fitted on the training part only (the seed's guide
//!    fits it on everything, leaking the test set; we don't);
//! 5. windows ([`make_windows`]) are built separately on each part, so no
//!    window straddles the boundary: the training part gives
//!    `(n_train - difference - timesteps - horizon) / stride + 1` windows, the
//!    test part `n_rows - n_train - timesteps - horizon + 1` windows (every
//!    window: `stride` applies to the training windows only, so test scores
//!    do not depend on it);
//! 6. Keras' `validation_split`: the **last** `validation_split` fraction of
//!    the training windows, taken before any shuffling
//!    (`split_at = floor(n_windows * (1 - validation_split))`).
//!
//! Targets are flattened step-major: `y[i, k * n_targets + t]` (see
//! [`window`]). Predictions are turned back into original units by
//! [`Prepared::to_original_units`]: inverse scaling, and with
//! `difference = 1`, `level(anchor + 1 + k) = level(anchor) + Σ_{j ≤ k} change_j`
//! (for `horizon = 1`: previous true level + predicted change).
//!
//! ```
//! use lstmkit::data::{prepare_frame, DataSpec, Frame};
//! let series: Vec<f64> = (0..100).map(|i| (i as f64 * 0.3).sin() + 0.05 * i as f64).collect();
//! let frame = Frame::from_columns("inline", vec![("y".to_string(), series.clone())]).unwrap();
//! let mut spec = DataSpec::new("inline", &["y"]);
//! spec.timesteps = 5;
//! spec.validation_split = 0.2;
//! let p = prepare_frame(&spec, frame).unwrap();
//! assert_eq!((p.n_rows, p.n_train_rows), (100, 80));
//! assert_eq!(p.train.len() + p.val.len(), 80 - 5);
//! assert_eq!(p.val.len(), 15);
//! assert_eq!(p.test.len(), 20 - 5);
//! assert_eq!(p.test.x.shape, vec![15, 5, 1]);
//! // Scaled truths map back to the original series.
//! let back = p.to_original_units(&p.test.y).unwrap();
//! assert!((back[0] - series[85]).abs() < 1e-5);
//! assert_eq!(p.test_truth[0], series[85]);
//! ```

mod arrays;
pub mod csv;
pub mod panel;
mod pipeline;
mod prepare;
pub mod scaler;
mod spec;
pub mod time;
pub mod views;
pub mod window;

pub use self::csv::{
    detect_delimiter, load_csv, parse_csv, CsvOptions, Fill, Frame, OpenTail, TimeOrder,
};
pub use self::panel::{Panel, SeriesRef, SeriesView};
pub use self::pipeline::Pipeline;
pub use self::prepare::{prepare, prepare_frame, prepare_frame_views, Prepared, SeriesPart};
pub use self::scaler::{Scaler, ScalerKind};
pub use self::spec::{DataSpec, ScalerName};
pub use self::time::{CalendarEncoding, CalendarFeature};
pub use self::views::{ViewSet, WindowViews};
pub use self::window::{make_windows, too_short, WindowSpec, Windows};

#[cfg(test)]
use crate::tensor::Tensor;
#[cfg(test)]
use std::path::{Path, PathBuf};

/// The bundled weekly Mauna Loa CO₂ series (`date,co2`, 2,284 rows; see
/// `data/PROVENANCE.md`). Also reachable as `path = "bundled:co2"`.
pub fn bundled_co2() -> &'static str {
    include_str!("../../data/co2_weekly.csv")
}

/// The bundled daily Seattle weather (`date,temp_max,temp_min,precipitation,wind`,
/// 1,461 rows; see `data/PROVENANCE.md`). Also reachable as
/// `path = "bundled:seattle_weather"`.
pub fn bundled_seattle_weather() -> &'static str {
    include_str!("../../data/seattle_weather.csv")
}

/// The text of a bundled dataset by name (`co2`, `seattle_weather`).
pub fn bundled(name: &str) -> Option<&'static str> {
    match name {
        "co2" => Some(bundled_co2()),
        "seattle_weather" | "seattle" | "weather" => Some(bundled_seattle_weather()),
        _ => None,
    }
}

#[cfg(test)]
mod panel_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod views_tests;
