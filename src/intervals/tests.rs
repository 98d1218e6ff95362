use super::*;
use crate::rng::Rng;

#[test]
fn the_conformal_quantile_takes_the_corrected_rank() {
    let s: Vec<f64> = (1..=10).map(|v| v as f64).collect();
    // n = 10: ⌈11 × 0.8⌉ = 9 → the 9th smallest (the plain 80% quantile would be 8.2)
    assert_eq!(conformal_quantile(&s, 0.8), Some(9.0));
    // ⌈11 × 0.9⌉ = 10
    assert_eq!(conformal_quantile(&s, 0.9), Some(10.0));
    // ⌈11 × 0.95⌉ = 11 > 10: no interval
    assert_eq!(conformal_quantile(&s, 0.95), None);
    // unordered input, non-finite scores ignored
    let mut t = s.clone();
    t.reverse();
    t.push(f64::NAN);
    assert_eq!(conformal_quantile(&t, 0.8), Some(9.0));
    // (n + 1) level exactly whole: n = 4, level 0.8 → rank 4
    assert_eq!(conformal_quantile(&[4.0, 1.0, 3.0, 2.0], 0.8), Some(4.0));
    assert_eq!(min_scores(0.8), 4);
    assert_eq!(min_scores(0.95), 19);
    assert_eq!(min_scores(0.5), 1);
    assert_eq!(level_name(0.8), "80");
    assert_eq!(level_name(0.95), "95");
    assert_eq!(level_name(0.975), "97.5");
}

#[test]
fn specs_are_checked() {
    let ok = IntervalSpec::default();
    assert!(ok.validate().is_ok());
    for bad in [
        IntervalSpec {
            levels: vec![],
            ..ok.clone()
        },
        IntervalSpec {
            levels: vec![1.0],
            ..ok.clone()
        },
        IntervalSpec {
            levels: vec![0.8, 0.8],
            ..ok.clone()
        },
        IntervalSpec {
            cal_length: Some(0),
            ..ok.clone()
        },
        IntervalSpec {
            aci_gamma: Some(-0.1),
            ..ok.clone()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}

#[test]
fn window_scores_give_per_step_intervals() {
    // 20 windows, 2 steps, 1 target: step-1 errors 1..20, step-2 errors 2, 4, ..., 40
    let truth: Vec<f64> = (0..20)
        .flat_map(|i| [i as f64 + 1.0, 2.0 * (i as f64 + 1.0)])
        .collect();
    let pred = vec![0.0; 40];
    let s = Scores::from_windows(&truth, &pred, 2, 1).unwrap();
    assert_eq!(s.min_len(), 20);
    // ⌈21 × 0.8⌉ = 17
    assert_eq!(s.half_width(0, 0, 0.8), Some(17.0));
    assert_eq!(s.half_width(1, 0, 0.8), Some(34.0));
    let iv = s.intervals(&[100.0, 200.0], &[0.8]).unwrap();
    assert_eq!(iv[0].lower, vec![83.0, 166.0]);
    assert_eq!(iv[0].upper, vec![117.0, 234.0]);
    // 3 steps from a 2-step calibration, or 99% from 20 scores: errors
    assert!(s.intervals(&[1.0, 2.0, 3.0], &[0.8]).is_err());
    let e = s.intervals(&[1.0], &[0.99]).unwrap_err().to_string();
    assert!(e.contains("99%") && e.contains("at least 99"), "{e}");
    assert!(Scores::from_windows(&truth, &pred[..39], 2, 1).is_err());
}

/// Noise of three kinds, with the scale each row has.
fn noise(kind: &str, n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|i| match kind {
            "gaussian" => r.normal(),
            // Student t with 3 degrees of freedom
            "heavy" => {
                let z = r.normal();
                let chi: f64 = (0..3).map(|_| r.normal().powi(2)).sum();
                z / (chi / 3.0).sqrt()
            }
            // the scale follows a slow cycle (0.5 to 1.5)
            _ => r.normal() * (1.0 + 0.5 * (i as f64 * 2.0 * std::f64::consts::PI / 200.0).sin()),
        })
        .collect()
}

#[test]
fn backtest_intervals_cover_at_their_level_on_known_noise() {
    // a random walk forecast by its last value: the step-k error is the sum of k noises
    let n = 4000;
    for kind in ["gaussian", "heavy", "hetero"] {
        let e = noise(kind, n, 7);
        let mut y = vec![0.0];
        for v in &e[1..] {
            y.push(y[y.len() - 1] + v);
        }
        let origins: Vec<usize> = (100..n - 3).collect();
        for step in 0..3 {
            let pred: Vec<Option<f64>> = origins.iter().map(|&o| Some(y[o - 1])).collect();
            let actual: Vec<f64> = origins.iter().map(|&o| y[o + step]).collect();
            let levels = [0.8, 0.95];
            for cal in [None, Some(500)] {
                let out = backtest_step(&origins, step, &pred, &actual, &levels, cal, None);
                for (l, &level) in levels.iter().enumerate() {
                    let (mut n_in, mut n_all) = (0, 0);
                    for (i, b) in out[l].iter().enumerate() {
                        if let Some((lo, hi)) = b {
                            n_all += 1;
                            if actual[i] >= *lo && actual[i] <= *hi {
                                n_in += 1;
                            }
                        }
                    }
                    let cov = n_in as f64 / n_all as f64;
                    assert!(n_all > 3500, "{kind}: {n_all}");
                    assert!(
                        (cov - level).abs() <= 0.02,
                        "{kind} step {} level {level} cal {cal:?}: coverage {cov}",
                        step + 1
                    );
                }
            }
        }
    }
}

#[test]
fn backtest_intervals_use_only_known_outcomes() {
    // origins 10..20, step 2 (0-based): origin o may use the forecasts of origins o' with o' + 2 < o
    let origins: Vec<usize> = (10..30).collect();
    let pred: Vec<Option<f64>> = vec![Some(0.0); 20];
    let mut actual: Vec<f64> = (0..20).map(|i| i as f64).collect();
    let a = backtest_step(&origins, 2, &pred, &actual, &[0.5], None, None);
    // the first origin with a score: origin 13 (origin 10's row 12 < 13), one score (0)
    assert_eq!(a[0][..3], [None, None, None]);
    assert_eq!(a[0][3], Some((0.0, 0.0)));
    // changing the actual of the last origins changes no earlier interval
    actual[19] = 1e9;
    actual[18] = -1e9;
    let b = backtest_step(&origins, 2, &pred, &actual, &[0.5], None, None);
    assert_eq!(a, b);
    // a missing forecast gives no interval and no score
    let mut gap = pred.clone();
    gap[0] = None;
    let c = backtest_step(&origins, 2, &gap, &actual, &[0.5], None, None);
    assert_eq!(c[0][0], None);
    assert_eq!(c[0][3], None);
}

#[test]
fn aci_recovers_coverage_after_the_noise_grows() {
    // noise that jumps from 1 to 3 half way: a fixed-window conformal interval
    // lags behind, ACI adapts
    let n = 3000;
    let mut r = Rng::new(3);
    let e: Vec<f64> = (0..n)
        .map(|i| r.normal() * if i < n / 2 { 1.0 } else { 3.0 })
        .collect();
    let origins: Vec<usize> = (1..n).collect();
    let pred: Vec<Option<f64>> = vec![Some(0.0); n - 1];
    let actual: Vec<f64> = e[1..].to_vec();
    let cov = |out: &Vec<Vec<Option<(f64, f64)>>>| {
        let mut k = 0;
        let mut m = 0;
        for i in (n / 2)..(n / 2 + 500) {
            if let Some((lo, hi)) = out[0][i - 1] {
                m += 1;
                if actual[i - 1] >= lo && actual[i - 1] <= hi {
                    k += 1;
                }
            }
        }
        k as f64 / m as f64
    };
    let plain = backtest_step(&origins, 0, &pred, &actual, &[0.9], None, None);
    let aci = backtest_step(&origins, 0, &pred, &actual, &[0.9], None, Some(0.05));
    let (cp, ca) = (cov(&plain), cov(&aci));
    assert!(ca > cp + 0.05, "ACI {ca} vs plain {cp}");
    assert!((ca - 0.9).abs() < 0.06, "ACI {ca}");
}
