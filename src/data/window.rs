//! Sliding windows over a multivariate series.
//!
//! For a series of `n` rows, window `i` starts at row `s = i * stride` and
//! * `X[i] = rows[s .. s + timesteps]` (all feature columns), shape
//!   `(samples, timesteps, features)`;
//! * `y[i]` = the next `horizon` rows of every target column, flattened
//!   **step-major**: `y[i, k * n_targets + t]` is target `t` at row
//!   `s + timesteps + k` (step `k = 0` is the row right after the window).
//!
//! Every full window is produced: `samples = (n - timesteps - horizon) / stride + 1`.
//! With `horizon = 1`, `stride = 1` this is exactly the reference pipeline's
//! `create_dataset(rows, look_back)` (`X[i] = rows[i:i+look_back]`,
//! `y[i] = rows[i+look_back, target]`, `n - look_back` windows).
//!
//! The *anchor* of a window is its last input row, `s + timesteps - 1`:
//! forecasts are made "at" the anchor, and differenced predictions are
//! turned back into levels from the level at the anchor.
//!
//! ```
//! use lstmkit::data::{make_windows, WindowSpec};
//! let a = [0.0, 1.0, 2.0, 3.0, 4.0];
//! let w = make_windows(&[&a[..]], &[&a[..]], &WindowSpec { timesteps: 2, horizon: 2, stride: 1 }).unwrap();
//! assert_eq!(w.x.shape, vec![2, 2, 1]);
//! assert_eq!(w.x.data, vec![0.0, 1.0, 1.0, 2.0]);
//! assert_eq!(w.y.data, vec![2.0, 3.0, 3.0, 4.0]);
//! assert_eq!(w.anchors, vec![1, 2]);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Window geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// Input rows per window (Keras' `look_back`).
    pub timesteps: usize,
    /// Future rows predicted at once (direct multi-step); 1 = next value.
    pub horizon: usize,
    /// Rows between the starts of consecutive windows.
    pub stride: usize,
}

impl WindowSpec {
    /// Checks that every field is at least 1.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("timesteps", self.timesteps),
            ("horizon", self.horizon),
            ("stride", self.stride),
        ] {
            if v == 0 {
                return Err(Error::Config(format!("{name} must be at least 1, got 0")));
            }
        }
        Ok(())
    }

    /// Rows one window needs: `timesteps + horizon`.
    pub fn span(&self) -> usize {
        self.timesteps + self.horizon
    }

    /// Number of windows over `n_rows` rows (0 when too short).
    pub fn count(&self, n_rows: usize) -> usize {
        if n_rows < self.span() || self.stride == 0 {
            0
        } else {
            (n_rows - self.span()) / self.stride + 1
        }
    }
}

/// Windows with their anchors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Windows {
    /// Inputs, `(samples, timesteps, features)`.
    pub x: Tensor,
    /// Targets, `(samples, horizon * targets)`, step-major.
    pub y: Tensor,
    /// Per window: its last input row, relative to the start of the series given.
    pub anchors: Vec<usize>,
}

/// Builds the windows of `features` / `targets` (column-major: `features[c][row]`;
/// every column has the same length). Errors when the series is shorter than one window.
pub fn make_windows(features: &[&[f64]], targets: &[&[f64]], spec: &WindowSpec) -> Result<Windows> {
    spec.validate()?;
    if features.is_empty() || targets.is_empty() {
        return Err(Error::Config(
            "windows need at least one feature and one target column".into(),
        ));
    }
    let n = features[0].len();
    if features.iter().chain(targets).any(|c| c.len() != n) {
        return Err(Error::Shape(
            "windows: feature and target columns have different lengths".into(),
        ));
    }
    if n < spec.span() {
        return Err(too_short(n, spec));
    }
    let samples = spec.count(n);
    let (ts, nf, nt, h) = (spec.timesteps, features.len(), targets.len(), spec.horizon);
    let mut x = Vec::with_capacity(samples * ts * nf);
    let mut y = Vec::with_capacity(samples * h * nt);
    let mut anchors = Vec::with_capacity(samples);
    for i in 0..samples {
        let s = i * spec.stride;
        for r in s..s + ts {
            for col in features {
                x.push(col[r] as f32);
            }
        }
        for k in 0..h {
            for col in targets {
                y.push(col[s + ts + k] as f32);
            }
        }
        anchors.push(s + ts - 1);
    }
    Ok(Windows {
        x: Tensor::new(&[samples, ts, nf], x)?,
        y: Tensor::new(&[samples, h * nt], y)?,
        anchors,
    })
}

/// The "series too short" error, with the numbers.
pub fn too_short(n_rows: usize, spec: &WindowSpec) -> Error {
    Error::Data(format!(
        "series too short: {n_rows} rows, but one window needs timesteps ({}) + horizon ({}) = {} rows",
        spec.timesteps,
        spec.horizon,
        spec.span()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(timesteps: usize, horizon: usize, stride: usize) -> WindowSpec {
        WindowSpec {
            timesteps,
            horizon,
            stride,
        }
    }

    #[test]
    fn horizon_one_matches_create_dataset() {
        // create_dataset(rows, 3): X[i] = rows[i:i+3], y[i] = rows[i+3, 0], n - 3 windows.
        let a: Vec<f64> = (0..7).map(|v| v as f64 * 10.0).collect();
        let b: Vec<f64> = (0..7).map(|v| v as f64).collect();
        let w = make_windows(&[&a, &b], &[&a], &ws(3, 1, 1)).unwrap();
        assert_eq!(w.x.shape, vec![4, 3, 2]);
        assert_eq!(w.y.shape, vec![4, 1]);
        assert_eq!(&w.x.data[..6], &[0.0, 0.0, 10.0, 1.0, 20.0, 2.0]);
        assert_eq!(&w.x.data[18..], &[30.0, 3.0, 40.0, 4.0, 50.0, 5.0]);
        assert_eq!(w.y.data, vec![30.0, 40.0, 50.0, 60.0]);
        assert_eq!(w.anchors, vec![2, 3, 4, 5]);
    }

    #[test]
    fn multi_step_multi_target_is_step_major() {
        let a = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0];
        let w = make_windows(&[&a], &[&a, &b], &ws(2, 3, 1)).unwrap();
        assert_eq!(w.x.shape, vec![2, 2, 1]);
        assert_eq!(w.y.shape, vec![2, 6]);
        assert_eq!(
            w.y.data,
            vec![
                2.0, 102.0, 3.0, 103.0, 4.0, 104.0, // window 0
                3.0, 103.0, 4.0, 104.0, 5.0, 105.0, // window 1
            ]
        );
    }

    #[test]
    fn stride_skips_starts() {
        let a: Vec<f64> = (0..10).map(|v| v as f64).collect();
        let spec = ws(3, 2, 3);
        let w = make_windows(&[&a], &[&a], &spec).unwrap();
        // starts 0, 3 (start 6 would need rows up to 10).
        assert_eq!(spec.count(10), 2);
        assert_eq!(w.anchors, vec![2, 5]);
        assert_eq!(w.x.data, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(w.y.data, vec![3.0, 4.0, 6.0, 7.0]);
    }

    #[test]
    fn exactly_one_window_and_too_short() {
        let a = [1.0, 2.0, 3.0];
        let spec = ws(2, 1, 1);
        let w = make_windows(&[&a], &[&a], &spec).unwrap();
        assert_eq!(w.x.shape, vec![1, 2, 1]);
        let spec = ws(2, 2, 1);
        let e = make_windows(&[&a], &[&a], &spec).unwrap_err().to_string();
        assert!(e.contains("3 rows"), "{e}");
        assert!(e.contains("timesteps (2)"), "{e}");
        assert!(e.contains("horizon (2)"), "{e}");
        let zero = ws(0, 1, 1);
        assert!(make_windows(&[&a], &[&a], &zero).is_err());
    }
}
