//! Numerical helpers of the statistical baselines: a bounded Nelder–Mead
//! minimiser (StatsForecast's variant, used by its ETS and Theta) and small
//! least-squares fits.

/// The minimum found by [`nelder_mead`].
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    /// Its point.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// Iterations run.
    pub iterations: usize,
}

/// Settings of [`nelder_mead`] (StatsForecast's ETS and Theta use
/// `tol_std = 1e-4`, `max_iter = 1000`, `adaptive = true`).
#[derive(Clone, Copy, Debug)]
pub struct NelderMead {
    /// Relative size of the initial simplex' steps.
    pub init_step: f64,
    /// Step for coordinates that start at zero.
    pub zero_pert: f64,
    /// Stop when the standard deviation of the simplex' values falls below this.
    pub tol_std: f64,
    /// Iteration limit.
    pub max_iter: usize,
    /// Dimension-dependent coefficients (Gao & Han 2012).
    pub adaptive: bool,
}

impl Default for NelderMead {
    fn default() -> Self {
        NelderMead {
            init_step: 0.05,
            zero_pert: 1e-4,
            tol_std: 1e-4,
            max_iter: 1000,
            adaptive: true,
        }
    }
}

fn clip(x: &mut [f64], lower: &[f64], upper: &[f64]) {
    for ((v, &lo), &hi) in x.iter_mut().zip(lower).zip(upper) {
        *v = v.max(lo).min(hi);
    }
}

fn std_dev(f: &[f64]) -> f64 {
    let n = f.len() as f64;
    let mean = f.iter().sum::<f64>() / n;
    (f.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// Minimises `fun` from `x0` inside the box `lower..=upper` (points are
/// clipped into it). Non-finite objective values count as worse than any
/// finite one.
pub fn nelder_mead(
    mut fun: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    s: NelderMead,
) -> Minimum {
    let n = x0.len();
    let mut eval = |x: &[f64]| {
        let v = fun(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    if n == 0 {
        return Minimum {
            x: Vec::new(),
            f: eval(&[]),
            iterations: 0,
        };
    }
    let nf = n as f64;
    let (alpha, gamma, rho, sigma) = if s.adaptive {
        (1.0, 1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf)
    } else {
        (1.0, 2.0, 0.5, 0.5)
    };
    let mut simplex: Vec<Vec<f64>> = vec![x0.to_vec(); n + 1];
    for j in 0..n {
        let v = &mut simplex[j + 1][j];
        *v = if *v != 0.0 {
            *v * (1.0 + s.init_step)
        } else {
            s.zero_pert
        };
    }
    for p in simplex.iter_mut() {
        clip(p, lower, upper);
    }
    let mut fs: Vec<f64> = simplex.iter().map(|p| eval(p)).collect();
    let mut it = 0;
    let mut order: Vec<usize> = (0..=n).collect();
    while it < s.max_iter {
        it += 1;
        order.sort_by(|&a, &b| fs[a].total_cmp(&fs[b]));
        let (best, worst, second) = (order[0], order[n], order[n - 1]);
        if std_dev(&fs) < s.tol_std {
            break;
        }
        let mut xo = vec![0.0; n];
        for &i in &order[..n] {
            for (c, v) in xo.iter_mut().zip(&simplex[i]) {
                *c += v / nf;
            }
        }
        let along = |t: f64, from: &[f64]| -> Vec<f64> {
            let mut p: Vec<f64> = xo.iter().zip(from).map(|(o, x)| o + t * (x - o)).collect();
            clip(&mut p, lower, upper);
            p
        };
        let xr = along(-alpha, &simplex[worst]);
        let fr = eval(&xr);
        if fs[best] <= fr && fr < fs[second] {
            simplex[worst] = xr;
            fs[worst] = fr;
            continue;
        }
        if fr < fs[best] {
            let xe = along(gamma, &xr);
            let fe = eval(&xe);
            if fe < fr {
                simplex[worst] = xe;
                fs[worst] = fe;
            } else {
                simplex[worst] = xr;
                fs[worst] = fr;
            }
            continue;
        }
        if fs[second] <= fr && fr < fs[worst] {
            let xc = along(rho, &xr);
            let fc = eval(&xc);
            if fc <= fr {
                simplex[worst] = xc;
                fs[worst] = fc;
                continue;
            }
        } else {
            let xc = along(-rho, &xr);
            let fc = eval(&xc);
            if fc < fs[worst] {
                simplex[worst] = xc;
                fs[worst] = fc;
                continue;
            }
        }
        let b = simplex[best].clone();
        for &i in &order[1..] {
            let mut p: Vec<f64> = b
                .iter()
                .zip(&simplex[i])
                .map(|(bv, x)| bv + sigma * (x - bv))
                .collect();
            clip(&mut p, lower, upper);
            fs[i] = eval(&p);
            simplex[i] = p;
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| fs[a].total_cmp(&fs[b]))
        .unwrap_or(0);
    Minimum {
        x: simplex[best].clone(),
        f: fs[best],
        iterations: it,
    }
}

/// Least squares `min |X b - y|²` by the normal equations (`X` given by
/// rows of `k` columns); `None` when `XᵀX` is singular.
pub fn lstsq(rows: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = rows.first()?.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for (r, &yv) in rows.iter().zip(y) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += r[i] * r[j];
            }
            a[i][k] += r[i] * yv;
        }
    }
    // Gaussian elimination with partial pivoting
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        for r in 0..k {
            if r != c {
                let f = a[r][c] / a[c][c];
                for j in c..=k {
                    a[r][j] -= f * a[c][j];
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// Largest modulus of the roots of the monic-or-not polynomial with
/// coefficients `c` in **ascending** order (`c[0] + c[1] z + ...`), by
/// Durand–Kerner; `None` when it does not converge or the leading
/// coefficient is zero.
pub fn max_root_modulus(c: &[f64]) -> Option<f64> {
    let deg = c.len().checked_sub(1)?;
    let lead = *c.last()?;
    if deg == 0 || lead == 0.0 {
        return None;
    }
    let coef: Vec<f64> = c.iter().map(|v| v / lead).collect();
    type C = (f64, f64);
    let mul = |a: C, b: C| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
    let sub = |a: C, b: C| (a.0 - b.0, a.1 - b.1);
    let div = |a: C, b: C| {
        let d = b.0 * b.0 + b.1 * b.1;
        ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
    };
    let eval = |z: C| {
        let mut r: C = (1.0, 0.0);
        for i in (0..deg).rev() {
            r = mul(r, z);
            r.0 += coef[i];
        }
        r
    };
    let mut z: Vec<C> = (0..deg)
        .map(|i| {
            let a = 0.4 + 2.0 * std::f64::consts::PI * i as f64 / deg as f64;
            (0.9 * a.cos(), 0.9 * a.sin())
        })
        .collect();
    for _ in 0..500 {
        let mut change = 0.0f64;
        for i in 0..deg {
            let mut den: C = (1.0, 0.0);
            for j in 0..deg {
                if i != j {
                    den = mul(den, sub(z[i], z[j]));
                }
            }
            if den.0 == 0.0 && den.1 == 0.0 {
                den = (1e-12, 0.0);
            }
            let step = div(eval(z[i]), den);
            z[i] = sub(z[i], step);
            change = change.max(step.0.abs() + step.1.abs());
        }
        if change < 1e-12 {
            break;
        }
    }
    let worst = z
        .iter()
        .map(|v| eval(*v))
        .map(|r| r.0.abs() + r.1.abs())
        .fold(0.0, f64::max);
    (worst < 1e-6 && z.iter().all(|v| v.0.is_finite() && v.1.is_finite()))
        .then(|| z.iter().map(|v| v.0.hypot(v.1)).fold(0.0, f64::max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_a_bounded_quadratic_minimum() {
        let f = |x: &[f64]| (x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2);
        let s = NelderMead {
            tol_std: 1e-12,
            max_iter: 5000,
            ..Default::default()
        };
        let m = nelder_mead(f, &[3.0, 3.0], &[-10.0, -10.0], &[10.0, 10.0], s);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] + 2.0).abs() < 1e-4,
            "{m:?}"
        );
        // the box binds: x1 >= -1
        let m = nelder_mead(f, &[3.0, 3.0], &[-10.0, -1.0], &[10.0, 10.0], s);
        assert!((m.x[1] + 1.0).abs() < 1e-6, "{m:?}");
    }

    #[test]
    fn lstsq_recovers_a_line_and_roots_are_found() {
        let rows: Vec<Vec<f64>> = (1..=5).map(|t| vec![1.0, t as f64]).collect();
        let y: Vec<f64> = (1..=5).map(|t| 2.0 + 3.0 * t as f64).collect();
        let b = lstsq(&rows, &y).unwrap();
        assert!((b[0] - 2.0).abs() < 1e-9 && (b[1] - 3.0).abs() < 1e-9);
        assert!(lstsq(&[vec![1.0, 1.0], vec![2.0, 2.0]], &[1.0, 2.0]).is_none());
        // (z - 2)(z + 0.5)(z² + 1) = z⁴ - 1.5 z³ + 0 z² - 1.5 z - 1
        let m = max_root_modulus(&[-1.0, -1.5, 0.0, -1.5, 1.0]).unwrap();
        assert!((m - 2.0).abs() < 1e-8, "{m}");
    }
}
