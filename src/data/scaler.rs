//! Per-column scalers with scikit-learn's formulas, fitted on the training
//! rows only and stored (serde) with the model.
//!
//! * [`ScalerKind::MinMax`]: like `sklearn.preprocessing.MinMaxScaler`:
//!   `scale = (hi - lo) / (max - min)`, `offset = lo - min * scale`,
//!   `t = x * scale + offset`. A (near-)constant column (range below
//!   `10 * f64::EPSILON`) gets a range of 1, as in scikit-learn.
//! * [`ScalerKind::Standard`]: like `StandardScaler`: `t = (x - mean) / std`
//!   with the **population** standard deviation (`ddof = 0`); a constant
//!   column gets `std = 1` (scikit-learn's constant-feature test).
//! * [`ScalerKind::None`] is the identity.
//!
//! ```
//! use lstmkit::data::{Scaler, ScalerKind};
//! let col = [313.0, 360.2, 330.0];
//! let s = Scaler::fit(ScalerKind::MinMax { feature_range: (0.0, 1.0) },
//!                     &["co2".to_string()], &[&col[..]]).unwrap();
//! assert_eq!(s.transform(0, 313.0), 0.0);
//! assert!((s.transform(0, 360.2) - 1.0).abs() < 1e-12);
//! assert!((s.inverse_transform(0, s.transform(0, 330.0)) - 330.0).abs() < 1e-12);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which scaler, with its settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ScalerKind {
    /// Min-max scaling to `feature_range` (scikit-learn's `MinMaxScaler`).
    MinMax {
        /// Target range `(lo, hi)`, `lo < hi`; Keras/scikit-learn default `(0, 1)`.
        feature_range: (f64, f64),
    },
    /// Zero mean, unit (population) variance (scikit-learn's `StandardScaler`).
    Standard,
    /// No scaling.
    None,
}

/// A fitted scaler: one `(scale, offset)` pair per column.
///
/// For `MinMax`, `scale`/`offset` are scikit-learn's `scale_`/`min_`
/// (`t = x * scale + offset`); for `Standard` they are `scale_` (the
/// standard deviation) and `mean_` (`t = (x - offset) / scale`); for `None`
/// they are 1 and 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// The kind and settings it was fitted with.
    pub kind: ScalerKind,
    /// Column names, in column-index order.
    pub columns: Vec<String>,
    /// Per-column scale (see the type's documentation).
    pub scale: Vec<f64>,
    /// Per-column offset (see the type's documentation).
    pub offset: Vec<f64>,
}

impl Scaler {
    /// Fits one scaler per column on `data[column]` (the training rows).
    pub fn fit(kind: ScalerKind, columns: &[String], data: &[&[f64]]) -> Result<Scaler> {
        if columns.len() != data.len() {
            return Err(Error::Shape(format!(
                "scaler: {} column names for {} columns",
                columns.len(),
                data.len()
            )));
        }
        if let ScalerKind::MinMax { feature_range } = kind {
            let ok = feature_range.0.is_finite()
                && feature_range.1.is_finite()
                && feature_range.0 < feature_range.1;
            if !ok {
                return Err(Error::Config(format!(
                    "scaler minmax: feature_range must be (lo, hi) with lo < hi, got ({}, {})",
                    feature_range.0, feature_range.1
                )));
            }
        }
        let mut scale = Vec::with_capacity(data.len());
        let mut offset = Vec::with_capacity(data.len());
        for (name, col) in columns.iter().zip(data) {
            if col.is_empty() {
                return Err(Error::Data(format!(
                    "scaler: column '{name}' has no training row to fit on"
                )));
            }
            if let Some(r) = col.iter().position(|v| !v.is_finite()) {
                return Err(Error::Data(format!(
                    "scaler: column '{name}', row {r}: value {} is not finite",
                    col[r]
                )));
            }
            let (s, o) = match kind {
                ScalerKind::MinMax {
                    feature_range: (lo, hi),
                } => {
                    let min = col.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let mut range = max - min;
                    if range < 10.0 * f64::EPSILON {
                        range = 1.0;
                    }
                    let s = (hi - lo) / range;
                    (s, lo - min * s)
                }
                ScalerKind::Standard => {
                    let n = col.len() as f64;
                    let mean = col.iter().sum::<f64>() / n;
                    let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                    // scikit-learn's `_is_constant_feature` bound.
                    let eps = f64::EPSILON;
                    let bound = n * eps * var + (n * mean * eps).powi(2);
                    let std = if var <= bound { 1.0 } else { var.sqrt() };
                    (std, mean)
                }
                ScalerKind::None => (1.0, 0.0),
            };
            scale.push(s);
            offset.push(o);
        }
        Ok(Scaler {
            kind,
            columns: columns.to_vec(),
            scale,
            offset,
        })
    }

    /// Number of columns.
    pub fn n_columns(&self) -> usize {
        self.scale.len()
    }

    /// Index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Scales one value of column `col`.
    #[inline]
    pub fn transform(&self, col: usize, x: f64) -> f64 {
        match self.kind {
            ScalerKind::MinMax { .. } => x * self.scale[col] + self.offset[col],
            ScalerKind::Standard => (x - self.offset[col]) / self.scale[col],
            ScalerKind::None => x,
        }
    }

    /// Un-scales one value of column `col` (back to original units).
    #[inline]
    pub fn inverse_transform(&self, col: usize, t: f64) -> f64 {
        match self.kind {
            ScalerKind::MinMax { .. } => (t - self.offset[col]) / self.scale[col],
            ScalerKind::Standard => t * self.scale[col] + self.offset[col],
            ScalerKind::None => t,
        }
    }

    /// Scales a whole column in place.
    pub fn transform_slice(&self, col: usize, xs: &mut [f64]) {
        for x in xs {
            *x = self.transform(col, *x);
        }
    }

    /// Un-scales a whole column in place.
    pub fn inverse_transform_slice(&self, col: usize, ts: &mut [f64]) {
        for t in ts {
            *t = self.inverse_transform(col, *t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    const MINMAX01: ScalerKind = ScalerKind::MinMax {
        feature_range: (0.0, 1.0),
    };

    #[test]
    fn minmax_matches_sklearn_formula_and_round_trips() {
        let a = [2.0, 4.0, 10.0];
        let b = [-1.0, 1.0, 0.5];
        let s = Scaler::fit(
            ScalerKind::MinMax {
                feature_range: (-1.0, 1.0),
            },
            &names(2),
            &[&a, &b],
        )
        .unwrap();
        assert_eq!(s.transform(0, 2.0), -1.0);
        assert_eq!(s.transform(0, 10.0), 1.0);
        assert_eq!(s.transform(0, 6.0), 0.0);
        assert_eq!(s.transform(1, -1.0), -1.0);
        assert_eq!(s.transform(1, 1.0), 1.0);
        // Values outside the training range extrapolate linearly.
        assert_eq!(s.transform(0, 14.0), 2.0);
        for &x in &[2.0, 3.3, 10.0, 17.25, -5.0] {
            assert!((s.inverse_transform(0, s.transform(0, x)) - x).abs() < 1e-12);
        }
    }

    #[test]
    fn standard_uses_population_std_and_round_trips() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let s = Scaler::fit(ScalerKind::Standard, &names(1), &[&a]).unwrap();
        let std = (1.25f64).sqrt();
        assert_eq!(s.offset[0], 2.5);
        assert!((s.scale[0] - std).abs() < 1e-15);
        assert!((s.transform(0, 1.0) + 1.5 / std).abs() < 1e-12);
        let mut v = a.to_vec();
        s.transform_slice(0, &mut v);
        let mean: f64 = v.iter().sum::<f64>() / 4.0;
        let var: f64 = v.iter().map(|x| x * x).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
        s.inverse_transform_slice(0, &mut v);
        for (x, y) in v.iter().zip(&a) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn constant_columns_get_unit_scale() {
        let a = [5.0, 5.0, 5.0];
        let s = Scaler::fit(ScalerKind::Standard, &names(1), &[&a]).unwrap();
        assert_eq!(s.scale[0], 1.0);
        assert_eq!(s.transform(0, 5.0), 0.0);
        let s = Scaler::fit(MINMAX01, &names(1), &[&a]).unwrap();
        assert_eq!(s.scale[0], 1.0);
        assert_eq!(s.transform(0, 5.0), 0.0);
        assert_eq!(s.inverse_transform(0, 0.5), 5.5);
    }

    #[test]
    fn none_is_identity_and_serde_round_trips() {
        let a = [3.0, -7.0];
        let s = Scaler::fit(ScalerKind::None, &names(1), &[&a]).unwrap();
        assert_eq!(s.transform(0, 3.5), 3.5);
        assert_eq!(s.inverse_transform(0, -2.0), -2.0);
        let m = Scaler::fit(MINMAX01, &names(1), &[&a]).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: Scaler = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let a = [1.0, 2.0];
        assert!(Scaler::fit(
            ScalerKind::MinMax {
                feature_range: (1.0, 0.0)
            },
            &names(1),
            &[&a]
        )
        .is_err());
        let e: [f64; 0] = [];
        assert!(Scaler::fit(ScalerKind::Standard, &names(1), &[&e]).is_err());
        let n = [1.0, f64::NAN];
        assert!(Scaler::fit(ScalerKind::Standard, &names(1), &[&n]).is_err());
    }
}
