//! Classical seasonal decomposition (statsmodels' `seasonal_decompose`, the
//! one StatsForecast's ETS initialisation and Theta use) and the
//! autocorrelation test Theta decides by.

/// Additive (`y = trend + season + rest`) or multiplicative (`y = trend · season · rest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Additive,
    Multiplicative,
}

/// The `m` seasonal indices of `y` by classical decomposition: a centred
/// moving average of order `m` (2×m for even `m`) as trend, the detrended
/// values averaged per position in the cycle and normalised (sum 0, or mean
/// 1). Index `i` belongs to rows `i, i + m, ...`. `None` when `y` has fewer
/// than two full cycles or a multiplicative trend value is zero.
pub fn seasonal_indices(y: &[f64], m: usize, kind: Kind) -> Option<Vec<f64>> {
    let n = y.len();
    if m < 2 || n < 2 * m {
        return None;
    }
    // filter weights: statsmodels' convolution_filter, centred
    let w: Vec<f64> = if m.is_multiple_of(2) {
        let mut w = vec![1.0 / m as f64; m + 1];
        w[0] = 0.5 / m as f64;
        w[m] = 0.5 / m as f64;
        w
    } else {
        vec![1.0 / m as f64; m]
    };
    let half = w.len() / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n.saturating_sub(w.len() - 1 - half) {
        let trend: f64 = w
            .iter()
            .enumerate()
            .map(|(j, wj)| wj * y[t + j - half])
            .sum();
        let d = match kind {
            Kind::Additive => y[t] - trend,
            Kind::Multiplicative => {
                if trend == 0.0 {
                    return None;
                }
                y[t] / trend
            }
        };
        sums[t % m] += d;
        counts[t % m] += 1;
    }
    if counts.contains(&0) {
        return None;
    }
    let mut avg: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| s / c as f64)
        .collect();
    let mean = avg.iter().sum::<f64>() / m as f64;
    for a in &mut avg {
        match kind {
            Kind::Additive => *a -= mean,
            Kind::Multiplicative => *a /= mean,
        }
    }
    Some(avg)
}

/// Sample autocorrelations of `y` at lags `1..=nlags` (statsmodels' `acf`,
/// `fft = False`: the lag sums over the variance sum, both about the mean).
pub fn acf(y: &[f64], nlags: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let var: f64 = d.iter().map(|v| v * v).sum();
    (1..=nlags)
        .map(|k| {
            if k >= n || var == 0.0 {
                0.0
            } else {
                d[..n - k]
                    .iter()
                    .zip(&d[k..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    / var
            }
        })
        .collect()
}

/// Theta's seasonality test (StatsForecast, after Assimakopoulos &
/// Nikolopoulos): with `m >= 4` and two full cycles, is the lag-`m`
/// autocorrelation significant at 90% (one-sided 95%) under Bartlett's
/// variance `(1 + 2 Σ_{k<m} r_k²) / n`?
pub fn is_seasonal(y: &[f64], m: usize) -> bool {
    if m < 4 || y.len() < 2 * m {
        return false;
    }
    let r = acf(y, m);
    let stat =
        ((1.0 + 2.0 * r[..m - 1].iter().map(|v| v * v).sum::<f64>()) / y.len() as f64).sqrt();
    stat > 0.0 && r[m - 1].abs() / stat > 1.644_853_626_951_472_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pure_season_is_recovered_and_tested() {
        let pattern = [3.0, -1.0, -2.5, 0.5];
        let y: Vec<f64> = (0..40)
            .map(|t| 10.0 + 0.1 * t as f64 + pattern[t % 4])
            .collect();
        let s = seasonal_indices(&y, 4, Kind::Additive).unwrap();
        for (a, b) in s.iter().zip(&pattern) {
            assert!((a - b).abs() < 1e-9, "{s:?}");
        }
        assert!(is_seasonal(&y, 4));
        // a constant series has no autocorrelation, so no season
        assert!(!is_seasonal(&[5.0; 40], 4));
        assert!(!is_seasonal(&y[..7], 4));
        assert!(seasonal_indices(&y[..7], 4, Kind::Additive).is_none());
        let m = seasonal_indices(&y, 4, Kind::Multiplicative).unwrap();
        assert!((m.iter().sum::<f64>() / 4.0 - 1.0).abs() < 1e-12);
    }
}
