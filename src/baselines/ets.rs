//! Exponential smoothing state-space models with additive errors (ETS(A,·,·)
//! of Hyndman et al. 2008): trend none, additive or damped, season none or
//! additive; fitted by maximum likelihood with Nelder–Mead, chosen by AICc
//! ([`Ets::auto`]) — StatsForecast's `AutoETS(model="AZZ")`, whose
//! initial states, parameter starts, bounds and optimiser settings are
//! followed:
//!
//! * states `l`, `b`, and `m` seasonal states, the next one used last
//!   (`s[m-1]`); one step: `q = l + φb`, `ŷ = q + s[m-1]`, `e = y - ŷ`,
//!   `l ← q + αe`, `b ← φb + βe`, the seasons rotate with `s[0] ← s[m-1] + γe`;
//! * `lik = n · ln Σ e²`, `AICc = lik + 2k + 2k(k+1)/(n-k-1)` with `k` the
//!   smoothing parameters, the free initial states and σ;
//! * starts `α = 1e-4 + 0.2 · (1 - 2e-4) / m`, `β` a tenth of its range,
//!   `γ` a twentieth, `φ = 0.978`; bounds `1e-4 ≤ β ≤ α₀` (StatsForecast's
//!   start `α₀` caps β's box), `γ ≤ 1 - α`, `0.8 ≤ φ ≤ 0.98`; parameters
//!   must also be admissible (forecastable: roots of the characteristic
//!   polynomial inside the unit circle);
//! * initial states from a classical decomposition (≥ 3 cycles) or a
//!   Fourier regression (fewer), then a line through the first
//!   `max(10, 2m)` deseasonalised values;
//! * seasonal models need `1 < m ≤ 24` and more than `m` rows (as R's and
//!   StatsForecast's `ets`); longer periods fit the non-seasonal models.

use serde::Serialize;

use super::decompose::{seasonal_indices, Kind};
use super::optim::{lstsq, max_root_modulus, nelder_mead, NelderMead};
use crate::error::{Error, Result};

/// The trend component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Trend {
    /// No trend.
    None,
    /// Additive (Holt).
    Additive,
    /// Additive, damped by `φ`.
    Damped,
}

/// A fitted ETS model with additive errors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ets {
    /// Trend component.
    pub trend: Trend,
    /// Seasonal period of the seasonal states (1: no season).
    pub m: usize,
    /// Level smoothing.
    pub alpha: f64,
    /// Trend smoothing (0 without a trend).
    pub beta: f64,
    /// Season smoothing (0 without a season).
    pub gamma: f64,
    /// Damping (1 unless damped).
    pub phi: f64,
    /// Initial states: level, trend (with one), then the `m` seasons (with one).
    pub init: Vec<f64>,
    /// `n · ln Σ e²` on the fitting rows.
    pub lik: f64,
    /// Corrected AIC.
    pub aicc: f64,
    /// Rows it was fitted on.
    pub n_fit: usize,
}

const LO: f64 = 1e-4;
const HI: f64 = 0.9999;
const PHI_LO: f64 = 0.8;
const PHI_HI: f64 = 0.98;

#[derive(Clone, Debug)]
struct State {
    l: f64,
    b: f64,
    s: Vec<f64>,
}

struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

fn admissible(p: &Params, trend: bool, m: usize) -> bool {
    let (alpha, gamma, phi) = (p.alpha, p.gamma, p.phi);
    if !(0.0..=1.0 + 1e-8).contains(&phi) {
        return false;
    }
    if m <= 1 {
        if alpha < 1.0 - 1.0 / phi || alpha > 1.0 + 1.0 / phi {
            return false;
        }
        if trend && (p.beta < alpha * (phi - 1.0) || p.beta > (1.0 + phi) * (2.0 - alpha)) {
            return false;
        }
        return true;
    }
    let beta = if trend { p.beta } else { 0.0 };
    let mf = m as f64;
    if gamma < (1.0 - 1.0 / phi - alpha).max(0.0) || gamma > 1.0 + 1.0 / phi - alpha {
        return false;
    }
    if alpha < 1.0 - 1.0 / phi - gamma * (1.0 - mf + phi + phi * mf) / (2.0 * phi * mf) {
        return false;
    }
    if beta < -(1.0 - phi) * (gamma / mf + alpha) {
        return false;
    }
    let mut c = vec![
        phi * (1.0 - alpha - gamma),
        alpha + beta - alpha * phi + gamma - 1.0,
    ];
    c.extend(std::iter::repeat_n(alpha + beta - alpha * phi, m - 2));
    c.extend([alpha + beta - phi, 1.0]);
    matches!(max_root_modulus(&c), Some(r) if r <= 1.0 + 1e-10)
}

impl Ets {
    fn state(&self) -> State {
        let t = usize::from(self.trend != Trend::None);
        State {
            l: self.init[0],
            b: if t == 1 { self.init[1] } else { 0.0 },
            s: self.init[1 + t..].to_vec(),
        }
    }

    fn step(&self, st: &mut State, y: f64) -> f64 {
        let phib = match self.trend {
            Trend::None => 0.0,
            Trend::Additive => st.b,
            Trend::Damped => self.phi * st.b,
        };
        let q = st.l + phib;
        let seasonal = !st.s.is_empty();
        let s_used = if seasonal { st.s[st.s.len() - 1] } else { 0.0 };
        let e = y - (q + s_used);
        st.l = q + self.alpha * e;
        st.b = phib + self.beta * e;
        if seasonal {
            st.s.rotate_right(1);
            st.s[0] = s_used + self.gamma * e;
        }
        e
    }

    /// The states after `y` (which starts with the fitting rows) and the
    /// sum of squared one-step errors.
    fn filter(&self, y: &[f64]) -> (State, f64) {
        let mut st = self.state();
        let mut sse = 0.0;
        for &v in y {
            let e = self.step(&mut st, v);
            sse += e * e;
        }
        (st, sse)
    }

    /// Forecasts `h` steps after the end of `history`, which must begin
    /// with the rows the model was fitted on (it may go on past them: the
    /// states follow the later rows with the fitted parameters).
    pub fn forecast(&self, history: &[f64], h: usize) -> Vec<f64> {
        let (st, _) = self.filter(history);
        let m = st.s.len();
        let mut phistar = 0.0;
        let mut damp = 1.0;
        (0..h)
            .map(|i| {
                damp *= if self.trend == Trend::Damped {
                    self.phi
                } else {
                    1.0
                };
                phistar += damp;
                let trend = if self.trend == Trend::None {
                    0.0
                } else {
                    phistar * st.b
                };
                let season = if m > 0 { st.s[m - 1 - (i % m)] } else { 0.0 };
                st.l + trend + season
            })
            .collect()
    }

    /// `ETS(A,Ad,A)`-style name.
    pub fn name(&self) -> String {
        let t = match self.trend {
            Trend::None => "N",
            Trend::Additive => "A",
            Trend::Damped => "Ad",
        };
        format!("ETS(A,{t},{})", if self.m > 1 { "A" } else { "N" })
    }

    /// Fits one model to `y` (season `m` when `seasonal`).
    pub fn fit(y: &[f64], m: usize, trend: Trend, seasonal: bool) -> Result<Ets> {
        let n = y.len();
        let m = if seasonal { m } else { 1 };
        if seasonal && (!(2..=24).contains(&m) || n <= m) {
            return Err(Error::Data(format!(
                "ETS: a seasonal model needs a period of 2..=24 and more than {m} rows, got period {m} and {n} rows"
            )));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!("ETS: value {i} is {}", y[i])));
        }
        let has_t = trend != Trend::None;
        let damped = trend == Trend::Damped;
        let npars = 2 + 2 * usize::from(has_t) + 2 * usize::from(seasonal) + usize::from(damped);
        if n <= npars + 4 {
            return Err(Error::Data(format!(
                "ETS: {n} rows are too few for a model with {npars} parameters (more than {} needed)",
                npars + 4
            )));
        }
        let alpha0 = LO + 0.2 * (HI - LO) / m as f64;
        let beta_hi = HI.min(alpha0);
        let gamma_hi = HI.min(1.0 - alpha0);
        let mut x0 = vec![alpha0];
        let (mut lo, mut hi) = (vec![LO], vec![HI]);
        if has_t {
            x0.push(LO + 0.1 * (beta_hi - LO));
            lo.push(LO);
            hi.push(beta_hi);
        }
        if seasonal {
            x0.push(LO + 0.05 * (gamma_hi - LO));
            lo.push(LO);
            hi.push(gamma_hi);
        }
        if damped {
            x0.push(PHI_LO + 0.99 * (PHI_HI - PHI_LO));
            lo.push(PHI_LO);
            hi.push(PHI_HI);
        }
        let n_par = x0.len();
        let init = init_states(y, m, has_t, seasonal)?;
        x0.extend(&init);
        lo.resize(x0.len(), f64::NEG_INFINITY);
        hi.resize(x0.len(), f64::INFINITY);
        let k = x0.len();
        if k >= n - 1 {
            return Err(Error::Data(format!(
                "ETS: {k} parameters for {n} rows leave no degrees of freedom"
            )));
        }
        let decode = |x: &[f64]| -> Ets {
            let mut j = 1;
            let mut take = |on: bool, default: f64| {
                if on {
                    j += 1;
                    x[j - 1]
                } else {
                    default
                }
            };
            let beta = take(has_t, 0.0);
            let gamma = take(seasonal, 0.0);
            let phi = take(damped, 1.0);
            let mut states = x[n_par..].to_vec();
            if seasonal {
                let s: f64 = states[1 + usize::from(has_t)..].iter().sum();
                states.push(-s);
            }
            Ets {
                trend,
                m,
                alpha: x[0],
                beta,
                gamma,
                phi,
                init: states,
                lik: f64::NAN,
                aicc: f64::NAN,
                n_fit: n,
            }
        };
        let usual = |e: &Ets| {
            (LO..=HI).contains(&e.alpha)
                && (!has_t || (e.beta >= LO && e.beta <= e.alpha && e.beta <= beta_hi))
                && (!seasonal || (e.gamma >= LO && e.gamma <= 1.0 - e.alpha && e.gamma <= gamma_hi))
                && (!damped || (PHI_LO..=PHI_HI).contains(&e.phi))
        };
        let lik_of = |e: &Ets| -> f64 {
            let p = Params {
                alpha: e.alpha,
                beta: e.beta,
                gamma: e.gamma,
                phi: e.phi,
            };
            if !usual(e) || !admissible(&p, has_t, m) {
                return f64::INFINITY;
            }
            let (_, sse) = e.filter(y);
            (n as f64 * sse.ln()).max(-1e10)
        };
        let best = nelder_mead(|x| lik_of(&decode(x)), &x0, &lo, &hi, NelderMead::default());
        let mut ets = decode(&best.x);
        ets.lik = lik_of(&ets);
        if !ets.lik.is_finite() {
            return Err(Error::Data(format!(
                "ETS: no admissible {} found on {n} rows",
                ets.name()
            )));
        }
        let kk = (k + 1) as f64;
        let nf = n as f64;
        ets.aicc = if nf - kk - 1.0 != 0.0 {
            ets.lik + 2.0 * kk + 2.0 * kk * (kk + 1.0) / (nf - kk - 1.0)
        } else {
            f64::INFINITY
        };
        Ok(ets)
    }

    /// The model of least AICc among ETS(A,N|A|Ad,N|A) (seasonal ones only
    /// when `1 < m ≤ 24` and there are more than `m` rows).
    pub fn auto(y: &[f64], m: usize) -> Result<Ets> {
        let seasons: &[bool] = if (2..=24).contains(&m) && y.len() > m {
            &[false, true]
        } else {
            &[false]
        };
        let mut best: Option<Ets> = None;
        let mut last_err = None;
        for trend in [Trend::None, Trend::Damped, Trend::Additive] {
            for &s in seasons {
                match Ets::fit(y, m, trend, s) {
                    Ok(e) if e.aicc.is_finite() => {
                        if best.as_ref().is_none_or(|b| e.aicc < b.aicc) {
                            best = Some(e);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => last_err = Some(e),
                }
            }
        }
        best.ok_or_else(|| {
            last_err.unwrap_or_else(|| Error::Data("ETS: no model could be fitted".into()))
        })
    }
}

/// Initial level, trend and the first `m - 1` seasonal states (StatsForecast's `initstate`).
fn init_states(y: &[f64], m: usize, trend: bool, seasonal: bool) -> Result<Vec<f64>> {
    let n = y.len();
    let (init_seas, y_sa): (Vec<f64>, Vec<f64>) = if seasonal {
        if n < 4 {
            return Err(Error::Data(format!("ETS: {n} rows are too few")));
        }
        let seasonal_comp: Vec<f64> = if n < 3 * m {
            // a line and one Fourier pair
            let w = 2.0 * std::f64::consts::PI / m as f64;
            let rows: Vec<Vec<f64>> = (1..=n)
                .map(|t| {
                    let t = t as f64;
                    let mut r = vec![1.0, t, (w * t).cos()];
                    if m > 2 {
                        r.push((w * t).sin());
                    }
                    r
                })
                .collect();
            let c = lstsq(&rows, y)
                .ok_or_else(|| Error::Data("ETS: singular initial-state regression".into()))?;
            (1..=n).map(|t| y[t - 1] - c[0] - c[1] * t as f64).collect()
        } else {
            let idx = seasonal_indices(y, m, Kind::Additive)
                .ok_or_else(|| Error::Data("ETS: seasonal decomposition failed".into()))?;
            (0..n).map(|t| idx[t % m]).collect()
        };
        let init: Vec<f64> = (1..m).rev().map(|i| seasonal_comp[i]).collect();
        let sa = y.iter().zip(&seasonal_comp).map(|(a, s)| a - s).collect();
        (init, sa)
    } else {
        (Vec::new(), y.to_vec())
    };
    let maxn = (if seasonal { 10.max(2 * m) } else { 10 }).min(n);
    let mut out = if trend {
        let rows: Vec<Vec<f64>> = (1..=maxn).map(|t| vec![1.0, t as f64]).collect();
        let c = lstsq(&rows, &y_sa[..maxn])
            .ok_or_else(|| Error::Data("ETS: singular initial trend regression".into()))?;
        vec![c[0], c[1]]
    } else {
        vec![y_sa[..maxn].iter().sum::<f64>() / maxn as f64]
    };
    out.extend(init_seas);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noiseless_seasonal_line_is_forecast_exactly() {
        let pat = [2.0, -1.0, 0.5, -1.5];
        let y: Vec<f64> = (0..48).map(|t| 5.0 + 0.5 * t as f64 + pat[t % 4]).collect();
        let e = Ets::fit(&y, 4, Trend::Additive, true).unwrap();
        let f = e.forecast(&y, 6);
        for (k, v) in f.iter().enumerate() {
            let t = 48 + k;
            let truth = 5.0 + 0.5 * t as f64 + pat[t % 4];
            assert!((v - truth).abs() < 0.05, "step {k}: {v} vs {truth} ({e:?})");
        }
        let auto = Ets::auto(&y, 4).unwrap();
        assert_eq!(auto.m, 4, "{}", auto.name());
        // rolling on: the states follow later rows with the same parameters
        let mut longer = y.clone();
        longer.extend((48..52).map(|t| 5.0 + 0.5 * t as f64 + pat[t % 4]));
        let f2 = e.forecast(&longer, 1);
        assert!((f2[0] - (5.0 + 0.5 * 52.0 + pat[0])).abs() < 0.05);
    }

    #[test]
    fn too_short_or_bad_series_are_errors() {
        assert!(Ets::fit(&[1.0, 2.0, 3.0], 1, Trend::Additive, false).is_err());
        assert!(Ets::fit(&[1.0; 30], 30, Trend::None, true).is_err());
        assert!(Ets::fit(
            &[1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            1,
            Trend::None,
            false
        )
        .is_err());
        assert!(Ets::auto(&[1.0, 2.0], 1).is_err());
        // a constant series: a flat forecast
        let e = Ets::auto(&[3.0; 20], 1).unwrap();
        assert!(e
            .forecast(&[3.0; 20], 3)
            .iter()
            .all(|v| (v - 3.0).abs() < 1e-6));
    }

    #[test]
    fn admissibility_rejects_unstable_seasonal_parameters() {
        let ok = Params {
            alpha: 0.3,
            beta: 0.01,
            gamma: 0.1,
            phi: 1.0,
        };
        assert!(admissible(&ok, true, 4));
        let bad = Params {
            alpha: 0.3,
            beta: 0.01,
            gamma: 1.9,
            phi: 1.0,
        };
        assert!(!admissible(&bad, true, 4));
    }
}
