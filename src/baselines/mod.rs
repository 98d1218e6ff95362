//! Baseline forecasters, always reported beside the model: `naive`,
//! `seasonal_naive`, `drift`, `mean`, exponential smoothing (`ets`,
//! [`ets::Ets::auto`]) and the standard Theta method (`theta`,
//! [`theta::Theta`]). All work in original units on one series.
//!
//! From an origin `o` (the first forecast row; rows `..o` are known), step
//! `k = 0..h`:
//! * `naive`: `y[o-1]`;
//! * `seasonal_naive` (period `m`): `y[o + k - m(⌊k/m⌋ + 1)]`;
//! * `drift`: `y[o-1] + (k+1) (y[o-1] - y[0]) / (o - 1)` (the line through
//!   the first and last known rows);
//! * `mean`: the mean of `y[..o]`;
//! * `ets`, `theta`: fitted on a range of rows before the origin (the
//!   training rows of the fold), then their states follow the rows up to
//!   the origin with the fitted parameters ([`forecast_folds`]).
//!
//! The seasonal period comes from `data.season`, else from the time
//! column's step ([`season_of_step`]: quarterly 4, monthly 12, weekly 52,
//! daily 7, hourly 24, half-hourly 48).
//!
//! ```
//! use lstmkit::baselines::{drift, mean, naive, seasonal_naive};
//! let y = [1.0, 2.0, 3.0, 7.0];
//! assert_eq!(naive(&y, 2), vec![7.0, 7.0]);
//! assert_eq!(drift(&y, 2), vec![9.0, 11.0]); // slope (7 - 1) / 3
//! assert_eq!(mean(&y, 1), vec![3.25]);
//! assert_eq!(seasonal_naive(&y, 3, 2), Some(vec![3.0, 7.0, 3.0]));
//! ```

pub mod decompose;
pub mod ets;
pub mod optim;
pub mod theta;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::data::time::{Step, TimeColumn};
use crate::error::{Error, Result};

pub use ets::{Ets, Trend};
pub use theta::Theta;

/// The baselines' names, in report order.
pub const NAMES: [&str; 6] = ["naive", "seasonal_naive", "drift", "mean", "ets", "theta"];

/// Naive forecast: the last value, `h` times (`history` must not be empty).
pub fn naive(history: &[f64], h: usize) -> Vec<f64> {
    vec![history.last().copied().unwrap_or(f64::NAN); h]
}

/// Seasonal naive with period `m`; `None` with fewer than `m` rows or `m = 0`.
pub fn seasonal_naive(history: &[f64], h: usize, m: usize) -> Option<Vec<f64>> {
    let n = history.len();
    if m == 0 || n < m {
        return None;
    }
    Some((0..h).map(|k| history[n + k - m * (k / m + 1)]).collect())
}

/// Drift: the line through the first and last rows, continued.
pub fn drift(history: &[f64], h: usize) -> Vec<f64> {
    let n = history.len();
    if n < 2 {
        return naive(history, h);
    }
    let last = history[n - 1];
    let slope = (last - history[0]) / (n - 1) as f64;
    (0..h).map(|k| last + (k + 1) as f64 * slope).collect()
}

/// The mean of the history, `h` times.
pub fn mean(history: &[f64], h: usize) -> Vec<f64> {
    let m = history.iter().sum::<f64>() / history.len() as f64;
    vec![m; h]
}

/// The usual seasonal period of a time step: quarters 4, months 12, weeks
/// 52, days 7, hours 24, half hours 48; `None` for other steps.
pub fn season_of_step(step: Step) -> Option<usize> {
    const HOUR: i128 = 3_600_000_000_000;
    match step {
        Step::Quarters(1) => Some(4),
        Step::Months(1) | Step::MonthEnds(1) => Some(12),
        Step::Days(1) => Some(7),
        Step::Days(7) => Some(52),
        Step::Clock(c) if c == HOUR => Some(24),
        Step::Clock(c) if c == HOUR / 2 => Some(48),
        _ => None,
    }
}

/// The seasonal period the time column's cells imply ([`season_of_step`]
/// of the step between its last rows), if any.
pub fn infer_season(cells: &[String]) -> Option<usize> {
    let tail = &cells[cells.len().saturating_sub(8)..];
    let col = TimeColumn::read(tail).ok()??;
    season_of_step(col.format.step(&col.values)?)
}

/// One forecast origin of [`forecast_folds`]: forecast rows
/// `origin..origin + h` from rows `..origin`; ETS and Theta are fitted on
/// rows `fit` (`fit.end <= origin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    /// First forecast row.
    pub origin: usize,
    /// The rows the statistical models are fitted on.
    pub fit: Range<usize>,
}

/// Every baseline's forecasts over some folds: `values[name]` holds
/// `folds × h` values (fold-major), or is absent when the baseline cannot
/// run on this series (`notes` says why).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoldForecasts {
    /// By baseline name ([`NAMES`]).
    pub values: BTreeMap<&'static str, Vec<f64>>,
    /// Why a baseline is missing, and which ETS model each fit chose.
    pub notes: Vec<String>,
    /// Fits of the statistical models made (one per distinct fit range).
    pub fits: usize,
}

/// Forecasts of all baselines at the given folds of `y` with season `m`
/// (1 or less: none; `seasonal_naive` then equals `naive`). Folds sharing a
/// fit range share one ETS and one Theta fit.
pub fn forecast_folds(y: &[f64], folds: &[Fold], h: usize, m: usize) -> Result<FoldForecasts> {
    for f in folds {
        if f.origin == 0 || f.origin > y.len() || f.fit.end > f.origin || f.fit.is_empty() {
            return Err(Error::Data(format!(
                "baselines: fold with origin {} and fit rows {:?} on a {}-row series",
                f.origin,
                f.fit,
                y.len()
            )));
        }
    }
    let m = m.max(1);
    let mut out = FoldForecasts::default();
    let mut simple: [Vec<f64>; 4] = Default::default();
    let mut sn_ok = true;
    for f in folds {
        let hist = &y[..f.origin];
        simple[0].extend(naive(hist, h));
        match seasonal_naive(hist, h, m) {
            Some(v) => simple[1].extend(v),
            None => sn_ok = false,
        }
        simple[2].extend(drift(hist, h));
        simple[3].extend(mean(hist, h));
    }
    let [n, s, d, me] = simple;
    out.values.insert("naive", n);
    if sn_ok {
        out.values.insert("seasonal_naive", s);
    } else {
        out.notes.push(format!(
            "seasonal_naive: an origin has fewer than {m} earlier rows"
        ));
    }
    out.values.insert("drift", d);
    out.values.insert("mean", me);

    let mut ets_vals = Some(Vec::with_capacity(folds.len() * h));
    let mut theta_vals = Some(Vec::with_capacity(folds.len() * h));
    let mut cache: Option<(Range<usize>, Option<Ets>, Option<Theta>)> = None;
    for f in folds {
        if cache.as_ref().is_none_or(|c| c.0 != f.fit) {
            let rows = &y[f.fit.clone()];
            let ets = match Ets::auto(rows, m) {
                Ok(e) => {
                    out.notes.push(format!(
                        "ets: {} fitted on rows {}..{}",
                        e.name(),
                        f.fit.start,
                        f.fit.end
                    ));
                    Some(e)
                }
                Err(e) => {
                    out.notes.push(format!("ets: {}", e.detail()));
                    None
                }
            };
            let th = match Theta::fit(rows, m) {
                Ok(t) => Some(t),
                Err(e) => {
                    out.notes.push(format!("theta: {}", e.detail()));
                    None
                }
            };
            out.fits += 1;
            cache = Some((f.fit.clone(), ets, th));
        }
        let Some((_, ets, th)) = cache.as_ref() else {
            continue;
        };
        let hist = &y[f.fit.start..f.origin];
        match (ets, ets_vals.as_mut()) {
            (Some(e), Some(v)) => v.extend(e.forecast(hist, h)),
            _ => ets_vals = None,
        }
        match (th, theta_vals.as_mut()) {
            (Some(t), Some(v)) => v.extend(t.forecast(hist, h)),
            _ => theta_vals = None,
        }
    }
    if let Some(v) = ets_vals {
        out.values.insert("ets", v);
    }
    if let Some(v) = theta_vals {
        out.values.insert("theta", v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_baselines_and_seasons() {
        let y: Vec<f64> = (0..10).map(|v| v as f64).collect();
        assert_eq!(
            seasonal_naive(&y, 5, 4),
            Some(vec![6.0, 7.0, 8.0, 9.0, 6.0])
        );
        assert_eq!(seasonal_naive(&y[..3], 1, 4), None);
        assert_eq!(drift(&[4.0], 2), vec![4.0, 4.0]);
        assert_eq!(season_of_step(Step::Quarters(1)), Some(4));
        assert_eq!(season_of_step(Step::Clock(1_800_000_000_000)), Some(48));
        assert_eq!(season_of_step(Step::Days(2)), None);
        let cells = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            infer_season(&cells(&["2020-01-01", "2020-02-01", "2020-03-01"])),
            Some(12)
        );
        assert_eq!(
            infer_season(&cells(&["1998 Q1", "1998 Q2", "1998 Q3"])),
            Some(4)
        );
        assert_eq!(
            infer_season(&cells(&[
                "2020-01-01 00:00",
                "2020-01-01 01:00",
                "2020-01-01 02:00"
            ])),
            Some(24)
        );
        assert_eq!(
            infer_season(&cells(&["2020-01-01", "2020-01-02", "2020-01-03"])),
            Some(7)
        );
        assert_eq!(infer_season(&cells(&["1", "2", "3"])), None);
    }

    #[test]
    fn folds_share_fits_and_use_only_earlier_rows() {
        let y: Vec<f64> = (0..60)
            .map(|t| 10.0 + (t as f64 * 0.9).sin() + 0.1 * t as f64)
            .collect();
        let folds: Vec<Fold> = (40..44)
            .map(|o| Fold {
                origin: o,
                fit: 0..40,
            })
            .collect();
        let f = forecast_folds(&y, &folds, 3, 4).unwrap();
        assert_eq!(f.fits, 1);
        for name in NAMES {
            assert_eq!(f.values[name].len(), 12, "{name}");
        }
        // changing rows at and after the last origin changes nothing
        let mut z = y.clone();
        for v in &mut z[43..] {
            *v += 100.0;
        }
        assert_eq!(forecast_folds(&z, &folds, 3, 4).unwrap(), f);
        assert!(forecast_folds(
            &y,
            &[Fold {
                origin: 10,
                fit: 0..12
            }],
            1,
            1
        )
        .is_err());
    }
}
