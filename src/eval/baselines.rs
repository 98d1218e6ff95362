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

/// Forecasts by baseline name.
pub type ByName = std::collections::BTreeMap<&'static str, Vec<f64>>;

/// Drift, mean, ETS and Theta forecasts (season `m`) on the prepared test
/// windows, by name, in the layout of `p.test_truth`; ETS and Theta are
/// fitted on each target's training rows. A baseline that cannot run on a
/// target is left out; the notes say why (and which ETS model was chosen).
pub fn statistical_for(p: &Prepared, m: usize) -> Result<(ByName, Vec<String>)> {
    use crate::baselines::{forecast_folds, Fold};
    let h = p.pipeline.window.horizon;
    let nt = p.pipeline.n_targets();
    let folds: Vec<Fold> = p
        .test
        .anchors
        .iter()
        .map(|&a| Fold {
            origin: a + 1,
            fit: 0..p.n_train_rows,
        })
        .collect();
    let mut out = std::collections::BTreeMap::new();
    let mut notes = Vec::new();
    let mut missing = std::collections::BTreeSet::new();
    for t in 0..nt {
        let f = forecast_folds(p.target_levels(t), &folds, h, m)?;
        let target = &p.pipeline.targets[t];
        notes.extend(f.notes.iter().map(|n| format!("{target}: {n}")));
        for name in ["drift", "mean", "ets", "theta"] {
            let Some(v) = f.values.get(name) else {
                missing.insert(name);
                continue;
            };
            let dst = out
                .entry(name)
                .or_insert_with(|| vec![f64::NAN; folds.len() * h * nt]);
            for i in 0..folds.len() {
                for k in 0..h {
                    dst[i * h * nt + k * nt + t] = v[i * h + k];
                }
            }
        }
    }
    for name in missing {
        out.remove(name);
    }
    Ok((out, notes))
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

    #[test]
    fn evaluation_reports_every_baseline_with_the_inferred_season() {
        use crate::data::{prepare_frame, DataSpec, Frame};
        let pat = [
            3.0, 1.0, -2.0, -4.0, -1.0, 2.0, 5.0, 4.0, 0.0, -3.0, -5.0, 0.0,
        ];
        let y: Vec<f64> = (0..144)
            .map(|i| 50.0 + 0.2 * i as f64 + pat[i % 12] + 0.3 * (i as f64 * 1.7).sin())
            .collect();
        let mut frame = Frame::from_columns("inline", vec![("y".to_string(), y)]).unwrap();
        frame.time = Some(
            (0..144)
                .map(|i| format!("{}-{:02}-01", 2000 + i / 12, i % 12 + 1))
                .collect(),
        );
        let mut spec = DataSpec::new("inline", &["y"]);
        spec.timesteps = 12;
        spec.horizon = 2;
        let p = prepare_frame(&spec, frame).unwrap();
        let ev = crate::eval::evaluate_levels(&p, &naive_for(&p).unwrap()).unwrap();
        assert_eq!((ev.season, ev.mase_m), (Some(12), 12));
        let b = &ev.baselines;
        let ets = b.ets.as_ref().unwrap().overall.mase.unwrap();
        let theta = b.theta.as_ref().unwrap().overall.mase.unwrap();
        let naive = b.naive.overall.mase.unwrap();
        assert!(b.drift.is_some() && b.mean.is_some() && b.seasonal_naive.is_some());
        // a seasonal series: the seasonal models beat the last value
        assert!(
            ets < 0.5 * naive && theta < 0.5 * naive,
            "{ets} {theta} {naive}"
        );
        assert!(
            ev.baseline_notes.iter().any(|n| n.contains("ETS(A,")),
            "{:?}",
            ev.baseline_notes
        );
        let table = ev.table();
        for name in ["seasonal naive", "drift", "mean", "ets", "theta"] {
            assert!(table.contains(name), "{table}");
        }
    }
}
