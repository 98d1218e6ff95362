//! Which origins a backtest forecasts from, and which training each uses.

use std::ops::Range;

use super::{Retrain, Window};
use crate::error::{Error, Result};

/// Origins and trainings of one series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldPlan {
    /// Forecast origins (first forecast row), ascending.
    pub origins: Vec<usize>,
    /// For each origin, the index of its training in `trainings`.
    pub training_of: Vec<usize>,
    /// The rows each training sees (each ends at or before its first origin).
    pub trainings: Vec<Range<usize>>,
    /// The first origin asked for, when it had to move (too few rows before it).
    pub moved_from: Option<usize>,
}

/// Plans the folds of an `n_rows` series: origins from `start` every
/// `stride` rows while `origin + horizon <= n_rows`; a training needs at
/// least `min_train_rows` rows (an earlier `start` moves forward by whole
/// strides). Errors name what does not fit.
pub fn plan_folds(
    n_rows: usize,
    start: usize,
    horizon: usize,
    stride: usize,
    retrain: Retrain,
    window: Window,
    min_train_rows: usize,
) -> Result<FoldPlan> {
    if stride == 0 || horizon == 0 {
        return Err(Error::Config(
            "backtest: stride and horizon must be at least 1".into(),
        ));
    }
    if let Window::Rows(w) = window {
        if w < min_train_rows {
            return Err(Error::Config(format!(
                "backtest.window = {w} rows, but one training needs at least {min_train_rows} \
                 (timesteps + horizon + differencing, and the validation split)"
            )));
        }
    }
    let mut first = start;
    let mut moved_from = None;
    if first < min_train_rows {
        first = start + (min_train_rows - start).div_ceil(stride) * stride;
        moved_from = Some(start);
    }
    if first + horizon > n_rows {
        return Err(Error::Config(format!(
            "backtest: no origin fits: the first one (row {first}{}) and a horizon of {horizon} \
             need {} rows, the series has {n_rows}",
            if moved_from.is_some() {
                format!(", moved from {start} so that {min_train_rows} rows precede it")
            } else {
                String::new()
            },
            first + horizon
        )));
    }
    let origins: Vec<usize> = (first..=n_rows - horizon).step_by(stride).collect();
    let rows_before = |o: usize| match window {
        Window::Expanding => 0..o,
        Window::Rows(w) => o.saturating_sub(w)..o,
    };
    let mut trainings = Vec::new();
    let mut training_of = Vec::with_capacity(origins.len());
    for (i, &o) in origins.iter().enumerate() {
        let new = match retrain {
            Retrain::Never => i == 0,
            Retrain::Always => true,
            Retrain::Every(k) => i % k.max(1) == 0,
        };
        if new {
            trainings.push(rows_before(o));
        }
        training_of.push(trainings.len() - 1);
    }
    Ok(FoldPlan {
        origins,
        training_of,
        trainings,
        moved_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_follow_start_stride_and_horizon() {
        // 20 rows, start 10, horizon 3, stride 2: 10, 12, 14, 16 (16 + 3 = 19 <= 20; 18 + 3 > 20)
        let p = plan_folds(20, 10, 3, 2, Retrain::Never, Window::Expanding, 5).unwrap();
        assert_eq!(p.origins, vec![10, 12, 14, 16]);
        assert_eq!(p.trainings, vec![0..10]);
        assert_eq!(p.training_of, vec![0; 4]);
        assert_eq!(p.moved_from, None);
        // the last origin ends exactly at the end
        let p = plan_folds(20, 17, 3, 1, Retrain::Never, Window::Expanding, 5).unwrap();
        assert_eq!(p.origins, vec![17]);
        assert!(plan_folds(20, 18, 3, 1, Retrain::Never, Window::Expanding, 5).is_err());
    }

    #[test]
    fn retrain_and_window_choose_the_training_rows() {
        let p = plan_folds(30, 20, 2, 1, Retrain::Every(3), Window::Rows(8), 5).unwrap();
        assert_eq!(p.origins, (20..=28).collect::<Vec<_>>());
        assert_eq!(p.trainings, vec![12..20, 15..23, 18..26]);
        assert_eq!(p.training_of, vec![0, 0, 0, 1, 1, 1, 2, 2, 2]);
        let p = plan_folds(30, 26, 2, 1, Retrain::Always, Window::Expanding, 5).unwrap();
        // 28 + 2 = 30 rows: the last origin
        assert_eq!(p.trainings, vec![0..26, 0..27, 0..28]);
        assert_eq!(p.training_of, vec![0, 1, 2]);
        // a window shorter than one training is an error, as is stride 0
        assert!(plan_folds(30, 20, 2, 1, Retrain::Always, Window::Rows(4), 5).is_err());
        assert!(plan_folds(30, 20, 2, 0, Retrain::Always, Window::Expanding, 5).is_err());
    }

    #[test]
    fn an_early_start_moves_by_whole_strides() {
        let p = plan_folds(30, 2, 1, 4, Retrain::Never, Window::Expanding, 9).unwrap();
        // 2 → 6 → 10 (the first at or after 9 rows)
        assert_eq!(p.origins[0], 10);
        assert_eq!(p.moved_from, Some(2));
        let e = plan_folds(12, 2, 4, 4, Retrain::Never, Window::Expanding, 9).unwrap_err();
        assert!(e.to_string().contains("moved from 2"), "{e}");
    }
}
