//! Finite-difference gradient checks for layers and whole models.
//!
//! Every layer's backward pass is tested against central differences of the
//! scalar `L = Σ_k Σ R_k ⊙ output_k` with fixed random `R_k`. The engine runs
//! in f32, so differences use a step of a few thousandths, the loss is summed
//! in f64, and the comparison allows `atol + rtol·max(|analytic|, |numeric|)`.

use crate::error::Result;
use crate::model::Model;
use crate::nn::Layer;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::Loss;

/// Central difference at step `eps`, retried at `eps/4` when the first
/// disagrees with the analytic value (a kink of relu/selu/hard_sigmoid inside
/// [x−eps, x+eps] spoils one quotient, practically never both).
macro_rules! central_diff {
    ($analytic:expr, $tol:expr, |$e:ident| $eval_pm:expr) => {{
        let mut num = 0.0;
        for $e in [$tol.eps, $tol.eps / 4.0] {
            let (lp, lm): (f64, f64) = $eval_pm;
            num = (lp - lm) / (2.0 * $e as f64);
            if Report::ok($analytic, num, &$tol) {
                break;
            }
        }
        num
    }};
}

/// Settings of a check.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Finite-difference step.
    pub eps: f32,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
    /// At most this many elements checked per tensor (spread evenly).
    pub max_per_tensor: usize,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            eps: 3e-3,
            atol: 5e-4,
            rtol: 5e-3,
            max_per_tensor: 48,
        }
    }
}

/// Outcome of a check.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Number of elements compared.
    pub checked: usize,
    /// Elements outside the tolerance, described.
    pub failures: Vec<String>,
    /// Largest |analytic − numeric| / (atol + rtol·scale) seen (≤ 1 passes).
    pub worst_ratio: f64,
}

impl Report {
    /// True when no element failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.checked > 0
    }

    fn ok(a: f64, n: f64, tol: &Tolerance) -> bool {
        (a - n).abs() <= tol.atol + tol.rtol * a.abs().max(n.abs()) && a.is_finite()
    }

    fn compare(&mut self, what: String, a: f64, n: f64, tol: &Tolerance) {
        self.checked += 1;
        let bound = tol.atol + tol.rtol * a.abs().max(n.abs());
        let r = (a - n).abs() / bound;
        if r > self.worst_ratio {
            self.worst_ratio = r;
        }
        if r > 1.0 || !a.is_finite() {
            self.failures
                .push(format!("{what}: analytic {a:.6e}, numeric {n:.6e}"));
        }
    }
}

fn indices(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        (0..n).collect()
    } else {
        (0..max)
            .map(|k| k * n / max + (k * 7919) % (n / max).max(1))
            .map(|i| i.min(n - 1))
            .collect()
    }
}

fn random_tensor(shape: &[usize], scale: f64, rng: &mut Rng) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor {
        shape: shape.to_vec(),
        data: (0..n).map(|_| (rng.normal() * scale) as f32).collect(),
    }
}

/// Checks `layer`'s backward pass on random inputs of the given batched shapes.
/// `training` selects the mode of the forward pass; the layer's run-time state
/// (e.g. a dropout RNG) is restored before every evaluation so that it is deterministic.
pub fn check_layer(
    layer: &mut dyn Layer,
    input_shapes: &[Vec<usize>],
    seed: u64,
    training: bool,
    tol: Tolerance,
) -> Result<Report> {
    let mut rng = Rng::new(seed);
    let per_sample: Vec<Vec<usize>> = input_shapes.iter().map(|s| s[1..].to_vec()).collect();
    let mut brng = rng.fork();
    layer.build(&per_sample, &mut brng)?;
    let state0 = layer.runtime_state();
    let mut inputs: Vec<Tensor> = input_shapes
        .iter()
        .map(|s| random_tensor(s, 0.7, &mut rng))
        .collect();
    let nout = layer.num_outputs();
    let mut outs = vec![Tensor::default(); nout];
    {
        let ins: Vec<&Tensor> = inputs.iter().collect();
        layer.forward(&ins, &mut outs, training)?;
    }
    let rs: Vec<Tensor> = outs
        .iter()
        .map(|o| random_tensor(&o.shape, 1.0, &mut rng))
        .collect();
    // analytic
    for p in layer.params_mut() {
        let s = p.value.shape.clone();
        p.grad.resize_zeroed(&s);
    }
    let mut gin: Vec<Tensor> = inputs.iter().map(|x| Tensor::zeros(&x.shape)).collect();
    {
        let ins: Vec<&Tensor> = inputs.iter().collect();
        let o: Vec<&Tensor> = outs.iter().collect();
        let r: Vec<&Tensor> = rs.iter().collect();
        layer.backward(&ins, &o, &r, &mut gin)?;
    }
    let pgrads: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.data.clone()).collect();
    let pnames: Vec<String> = layer.params().iter().map(|p| p.name.clone()).collect();
    let trainable: Vec<bool> = layer.params().iter().map(|p| p.trainable).collect();

    let eval = |layer: &mut dyn Layer, inputs: &[Tensor]| -> Result<f64> {
        layer.set_runtime_state(&state0)?;
        let ins: Vec<&Tensor> = inputs.iter().collect();
        let mut o = vec![Tensor::default(); nout];
        layer.forward(&ins, &mut o, training)?;
        Ok(o.iter()
            .zip(&rs)
            .map(|(o, r)| {
                o.data
                    .iter()
                    .zip(&r.data)
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum::<f64>()
            })
            .sum())
    };
    let mut report = Report::default();
    for (pi, name) in pnames.iter().enumerate() {
        if !trainable[pi] {
            continue;
        }
        let n = pgrads[pi].len();
        for k in indices(n, tol.max_per_tensor) {
            let orig = layer.params()[pi].value.data[k];
            let num = central_diff!(pgrads[pi][k] as f64, tol, |e| {
                layer.params_mut()[pi].value.data[k] = orig + e;
                let lp = eval(layer, &inputs)?;
                layer.params_mut()[pi].value.data[k] = orig - e;
                let lm = eval(layer, &inputs)?;
                layer.params_mut()[pi].value.data[k] = orig;
                (lp, lm)
            });
            report.compare(format!("{}[{k}]", name), pgrads[pi][k] as f64, num, &tol);
        }
    }
    for xi in 0..inputs.len() {
        let n = inputs[xi].len();
        for k in indices(n, tol.max_per_tensor) {
            let orig = inputs[xi].data[k];
            let num = central_diff!(gin[xi].data[k] as f64, tol, |e| {
                inputs[xi].data[k] = orig + e;
                let lp = eval(layer, &inputs)?;
                inputs[xi].data[k] = orig - e;
                let lm = eval(layer, &inputs)?;
                inputs[xi].data[k] = orig;
                (lp, lm)
            });
            report.compare(format!("input{xi}[{k}]"), gin[xi].data[k] as f64, num, &tol);
        }
    }
    Ok(report)
}

/// Checks a whole model: gradients of `loss(model(x), y) + penalties` with
/// respect to every trainable weight (sampled) and to the input.
pub fn check_model(
    model: &mut Model,
    x: &Tensor,
    y: &Tensor,
    loss: Loss,
    tol: Tolerance,
) -> Result<Report> {
    let mut dy = Tensor::default();
    let pred = model.forward(x, false)?.clone();
    loss.value_and_grad(&pred, y, &mut dy)?;
    model.zero_grad();
    model.backward(x, &dy, true)?;
    model.add_regularization_grads();
    let gx = model.input_grad().clone();
    let grads: Vec<Vec<f32>> = model
        .params()
        .iter()
        .map(|(_, p)| p.grad.data.clone())
        .collect();
    let names: Vec<String> = model
        .params()
        .iter()
        .map(|(l, p)| format!("{l}/{}", p.name))
        .collect();
    let trainable: Vec<bool> = model.params().iter().map(|(_, p)| p.trainable).collect();
    let f = |model: &mut Model, x: &Tensor| -> Result<f64> {
        let p = model.forward(x, false)?.clone();
        let mut g = Tensor::default();
        let v = loss.value_and_grad(&p, y, &mut g)?;
        // recompute in f64 for less noise
        let _ = v;
        let n = p.len() as f64;
        let data: f64 = if let Loss::Quantile { levels } = loss {
            crate::train::quantile::pinball_raw_f64(&levels, &p.data, &y.data)
        } else {
            p.data
                .iter()
                .zip(&y.data)
                .map(|(a, b)| {
                    let d = *a as f64 - *b as f64;
                    match loss {
                        Loss::Mse => d * d,
                        Loss::Mae => d.abs(),
                        Loss::Huber { delta } => {
                            let delta = delta as f64;
                            if d.abs() <= delta {
                                0.5 * d * d
                            } else {
                                delta * d.abs() - 0.5 * delta * delta
                            }
                        }
                        Loss::Quantile { .. } => 0.0, // handled above
                    }
                })
                .sum::<f64>()
                / n
        };
        let reg: f64 = model
            .params()
            .iter()
            .filter_map(|(_, p)| {
                p.regularizer.map(|r| {
                    p.value
                        .data
                        .iter()
                        .map(|&w| {
                            r.l1 as f64 * (w as f64).abs() + r.l2 as f64 * (w as f64) * (w as f64)
                        })
                        .sum::<f64>()
                })
            })
            .sum();
        Ok(data + reg)
    };
    let mut report = Report::default();
    for pi in 0..grads.len() {
        if !trainable[pi] {
            continue;
        }
        for k in indices(grads[pi].len(), tol.max_per_tensor) {
            let orig = model.params_mut()[pi].value.data[k];
            let num = central_diff!(grads[pi][k] as f64, tol, |e| {
                model.params_mut()[pi].value.data[k] = orig + e;
                let lp = f(model, x)?;
                model.params_mut()[pi].value.data[k] = orig - e;
                let lm = f(model, x)?;
                model.params_mut()[pi].value.data[k] = orig;
                (lp, lm)
            });
            report.compare(
                format!("{}[{k}]", names[pi]),
                grads[pi][k] as f64,
                num,
                &tol,
            );
        }
    }
    let mut xx = x.clone();
    for k in indices(x.len(), tol.max_per_tensor) {
        let orig = xx.data[k];
        let num = central_diff!(gx.data[k] as f64, tol, |e| {
            xx.data[k] = orig + e;
            let lp = f(model, &xx)?;
            xx.data[k] = orig - e;
            let lm = f(model, &xx)?;
            xx.data[k] = orig;
            (lp, lm)
        });
        report.compare(format!("x[{k}]"), gx.data[k] as f64, num, &tol);
    }
    Ok(report)
}
