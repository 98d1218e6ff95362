//! Baseline forecasts on the same windows as the model, in original units.
//!
//! * naive (last value): every horizon step of window `i` predicts the level at
//!   its anchor (last input row): `ŷ[a + 1 + k] = y[a]`;
//! * seasonal naive with season `m`: `ŷ[a + 1 + k] = y[a + 1 + k - m·(⌊k / m⌋ + 1)]`,
//!   the value one season earlier (Hyndman's definition), read from the series
//!   up to the anchor (it may lie before the window, in earlier rows).
//!
//! Output layout: `(windows, horizon * targets)` step-major, like the model's.
//!
//! ```
//! use lstmkit::eval::baselines::{naive, seasonal_naive};
//! let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! assert_eq!(naive(&[&y[..]], &[2, 3], 2).unwrap(), vec![3.0, 3.0, 4.0, 4.0]);
//! assert_eq!(seasonal_naive(&[&y[..]], &[3], 3, 2).unwrap(), vec![3.0, 4.0, 3.0]);
//! ```

use crate::data::Prepared;
use crate::error::{Error, Result};

fn check(levels: &[&[f64]], anchors: &[usize]) -> Result<()> {
    for l in levels {
        if let Some(a) = anchors.iter().find(|&&a| a >= l.len()) {
            return Err(Error::Shape(format!(
                "baseline: anchor row {a} past the end of a {}-row series",
                l.len()
            )));
        }
    }
    Ok(())
}

/// Naive (last value) forecasts of `levels[t]` at the given anchors.
pub fn naive(levels: &[&[f64]], anchors: &[usize], horizon: usize) -> Result<Vec<f64>> {
    check(levels, anchors)?;
    let mut out = Vec::with_capacity(anchors.len() * horizon * levels.len());
    for &a in anchors {
        for _ in 0..horizon {
            for l in levels {
                out.push(l[a]);
            }
        }
    }
    Ok(out)
}

/// Seasonal-naive forecasts with season `m` (`m = 1` is [`naive`]).
pub fn seasonal_naive(
    levels: &[&[f64]],
    anchors: &[usize],
    horizon: usize,
    m: usize,
) -> Result<Vec<f64>> {
    if m == 0 {
        return Err(Error::Config(
            "seasonal naive: season must be at least 1".into(),
        ));
    }
    check(levels, anchors)?;
    let mut out = Vec::with_capacity(anchors.len() * horizon * levels.len());
    for &a in anchors {
        for k in 0..horizon {
            let back = m * (k / m + 1);
            let target = a + 1 + k;
            if target < back {
                return Err(Error::Data(format!(
                    "seasonal naive with season {m}: the window anchored at row {a} has only \
                     {} earlier rows, {back} needed",
                    a + 1
                )));
            }
            for l in levels {
                out.push(l[target - back]);
            }
        }
    }
    Ok(out)
}

fn target_levels(p: &Prepared) -> Vec<&[f64]> {
    (0..p.pipeline.n_targets())
        .map(|t| p.target_levels(t))
        .collect()
}

/// Naive forecasts on the prepared test windows (same layout as `p.test_truth`).
pub fn naive_for(p: &Prepared) -> Result<Vec<f64>> {
    naive(
        &target_levels(p),
        &p.test.anchors,
        p.pipeline.window.horizon,
    )
}

/// Seasonal-naive forecasts on the prepared test windows.
pub fn seasonal_naive_for(p: &Prepared, season: usize) -> Result<Vec<f64>> {
    seasonal_naive(
        &target_levels(p),
        &p.test.anchors,
        p.pipeline.window.horizon,
        season,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_multi_target_step_major() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [10.0, 20.0, 30.0, 40.0];
        let f = naive(&[&a, &b], &[1, 2], 2).unwrap();
        assert_eq!(f, vec![2.0, 20.0, 2.0, 20.0, 3.0, 30.0, 3.0, 30.0]);
        assert!(naive(&[&a], &[4], 1).is_err());
    }

    #[test]
    fn seasonal_naive_values() {
        let y: Vec<f64> = (0..20).map(|v| v as f64).collect();
        // season 4, anchor 9, horizon 6: targets 10..15 → 6,7,8,9,6,7... (k/m+1 seasons back)
        let f = seasonal_naive(&[&y], &[9], 6, 4).unwrap();
        assert_eq!(f, vec![6.0, 7.0, 8.0, 9.0, 6.0, 7.0]);
        // season 1 is naive.
        assert_eq!(
            seasonal_naive(&[&y], &[9, 12], 3, 1).unwrap(),
            naive(&[&y], &[9, 12], 3).unwrap()
        );
        let e = seasonal_naive(&[&y], &[2], 1, 7).unwrap_err().to_string();
        assert!(e.contains("season 7"), "{e}");
        assert!(seasonal_naive(&[&y], &[2], 1, 0).is_err());
    }
}
