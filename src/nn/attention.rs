//! `Attention`: Keras' dot-product (Luong-style) attention.
//!
//! Inputs `[query (B, Tq, d), value (B, Tv, dv)]` or `[query, value, key (B, Tv, d)]`
//! (key defaults to value). Keras 3's formulas:
//! * `score_mode="dot"`: `scores = q·kᵀ`, times the scalar `scale` when `use_scale`
//!   (no 1/√d);
//! * `score_mode="concat"`: `scores[i, j] = concat_score_weight · Σ tanh(scale·(q_i + k_j))`
//!   (`scale` only when `use_scale`);
//! * `use_causal_mask`: scores with j > i get −1e9 before the softmax;
//! * `w = softmax(scores)`, dropped out (inverted, training only) with `dropout`;
//! * `out = w·v`; with `return_attention_scores` the weights `w` are a second output.
//!
//! Variables (created in this order): `scale` (when `use_scale`), then
//! `concat_score_weight` (when `score_mode="concat"`), both scalars initialised to 1.

use serde::{Deserialize, Serialize};

use super::config;
use super::rnn::common::{check_rate, fill_mask};
use super::{Grads, Layer, Param, Shape, Tensors};
use crate::error::{Error, Result};
use crate::nn::activation::{exp_f32, tanh_f32};
use crate::nn::gemm;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// How scores are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScoreMode {
    /// Dot product of query and key (Keras' default).
    #[default]
    Dot,
    /// Sum of tanh of query + key.
    Concat,
}

impl ScoreMode {
    /// Parses `dot` or `concat`.
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "dot" => Ok(ScoreMode::Dot),
            "concat" => Ok(ScoreMode::Concat),
            o => Err(Error::Config(format!(
                "Attention score_mode must be 'dot' or 'concat', got '{o}'"
            ))),
        }
    }
    /// Keras' name.
    pub fn name(self) -> &'static str {
        match self {
            ScoreMode::Dot => "dot",
            ScoreMode::Concat => "concat",
        }
    }
}

impl Serialize for ScoreMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ScoreMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ScoreMode::from_name(&name).map_err(|e| serde::de::Error::custom(e.detail()))
    }
}

/// `keras.layers.Attention`'s options, with Keras' names and defaults.
/// `use_causal_mask` and `return_attention_scores` are call arguments in Keras
/// (stored with the node, not the layer): the model reader merges them in and
/// the writer moves them back ([`LayerConfig::CALL_KWARGS`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionConfig {
    /// Learn a scalar that multiplies the scores.
    #[serde(default)]
    pub use_scale: bool,
    /// Score function (`dot` or `concat`).
    #[serde(default)]
    pub score_mode: ScoreMode,
    /// Dropout on the attention weights (training only), in [0, 1).
    #[serde(default, deserialize_with = "config::rate")]
    pub dropout: f32,
    /// Keras' `seed` (kept for the config; lstmkit seeds from the model seed).
    #[serde(default, deserialize_with = "config::seed")]
    pub seed: Option<u64>,
    /// Mask future positions (j > i); tf.keras 2 stored it as `causal`.
    #[serde(default, alias = "causal")]
    pub use_causal_mask: bool,
    /// Also output the attention weights (B, Tq, Tv).
    #[serde(default)]
    pub return_attention_scores: bool,
}

layer_config!(AttentionConfig => Attention, "Attention", "attention";
    const CALL_KWARGS: &'static [&'static str] = &["use_causal_mask", "return_attention_scores"];
);

/// Keras' `Attention` layer.
///
/// ```
/// use lstmkit::model::Graph;
/// use lstmkit::nn::{Attention, Dense, GlobalAveragePooling1D, LSTM};
/// use lstmkit::Tensor;
/// let mut g = Graph::new(&[10, 1]);
/// let x = g.input();
/// let h = g.add_named("h", LSTM::new(8).return_sequences(true), &[x]);
/// let a = g.add(Attention::new(), &[h, h]);
/// let p = g.add(GlobalAveragePooling1D::new(), &[a]);
/// let y = g.add(Dense::new(1), &[p]);
/// let mut m = g.build(y, 5).unwrap();
/// assert_eq!(m.predict(&Tensor::zeros(&[2, 10, 1])).unwrap().shape, vec![2, 1]);
/// ```
pub struct Attention {
    /// The options.
    pub config: AttentionConfig,
    scale: Param,
    concat_w: Param,
    rng: Rng,
    dims: (usize, usize, usize, usize), // tq, tv, d, dv
    raw: Vec<f32>,  // (B, Tq, Tv) q·kᵀ (dot) or Σ tanh (concat), before the scalars
    w: Vec<f32>,    // (B, Tq, Tv) softmax
    wd: Vec<f32>,   // (B, Tq, Tv) after dropout
    mask: Vec<f32>, // (B, Tq, Tv) dropout mask
    dwd: Vec<f32>,  // (B, Tq, Tv)
    ds: Vec<f32>,   // (B, Tq, Tv)
    dkey: Vec<f32>, // (B, Tv, d) when key = value
    dropped: bool,
}

new_with_defaults!(Attention: AttentionConfig, "Keras' defaults: dot scores, no scale, no dropout, no causal mask.");

impl Attention {
    /// An Attention layer with these options.
    pub fn from_config(config: AttentionConfig) -> Self {
        Attention {
            config,
            scale: Param::default(),
            concat_w: Param::default(),
            rng: Rng::new(0),
            dims: (0, 0, 0, 0),
            raw: Vec::new(),
            w: Vec::new(),
            wd: Vec::new(),
            mask: Vec::new(),
            dwd: Vec::new(),
            ds: Vec::new(),
            dkey: Vec::new(),
            dropped: false,
        }
    }
    setters! { config =>
        /// Sets `use_scale`.
        use_scale: bool,
        /// Sets `score_mode`.
        score_mode: ScoreMode,
        /// Sets the dropout rate on the attention weights.
        dropout: f32,
        /// Sets `use_causal_mask`.
        use_causal_mask: bool,
        /// Sets `return_attention_scores`.
        return_attention_scores: bool,
    }

    fn scale_value(&self) -> f32 {
        if self.config.use_scale {
            self.scale.value.data[0]
        } else {
            1.0
        }
    }
}

impl Layer for Attention {
    // Keras' config (`use_scale`, `score_mode`, `dropout`, `seed`). `use_causal_mask` and
    // `return_attention_scores` are call arguments in Keras (stored with the node,
    // not the layer); they are included so that lstmkit's own files keep them.
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 2 && input_shapes.len() != 3 {
            return Err(Error::Shape(format!(
                "Attention takes [query, value] or [query, value, key]; got {} input(s)",
                input_shapes.len()
            )));
        }
        check_rate("Attention", "dropout", self.config.dropout)?;
        let q = &input_shapes[0];
        let v = &input_shapes[1];
        let k = input_shapes.get(2).unwrap_or(v);
        let fmt = super::fmt_shape;
        if q.len() != 2 || v.len() != 2 || k.len() != 2 {
            return Err(Error::Shape(format!(
                "Attention needs 3-D inputs (batch, steps, dim); got query {}, value {}{}",
                fmt(q),
                fmt(v),
                if input_shapes.len() == 3 {
                    format!(", key {}", fmt(k))
                } else {
                    String::new()
                }
            )));
        }
        if q[1] != k[1] {
            return Err(Error::Shape(format!(
                "Attention query {} and key {} must have the same last dimension",
                fmt(q),
                fmt(k)
            )));
        }
        if k[0] != v[0] && k[0] != 0 && v[0] != 0 {
            return Err(Error::Shape(format!(
                "Attention key {} and value {} must have the same number of steps",
                fmt(k),
                fmt(v)
            )));
        }
        // scalars: shape [], one value (a default Param has no data)
        if self.config.use_scale && self.scale.value.data.is_empty() {
            self.scale = Param::new("scale", &[], vec![1.0]);
        }
        if self.config.score_mode == ScoreMode::Concat && self.concat_w.value.data.is_empty() {
            self.concat_w = Param::new("concat_score_weight", &[], vec![1.0]);
        }
        self.rng = rng.fork();
        let mut outs = vec![vec![q[0], v[1]]];
        if self.config.return_attention_scores {
            outs.push(vec![q[0], k[0]]);
        }
        Ok(outs)
    }

    fn num_outputs(&self) -> usize {
        if self.config.return_attention_scores {
            2
        } else {
            1
        }
    }

    fn forward(&mut self, inputs: Tensors, outputs: &mut [Tensor], training: bool) -> Result<()> {
        let (q, v) = (inputs[0], inputs[1]);
        let k = if inputs.len() == 3 { inputs[2] } else { v };
        if q.ndim() != 3 || v.ndim() != 3 || k.ndim() != 3 {
            return Err(Error::Shape(format!(
                "Attention needs 3-D inputs, got query {:?}, value {:?}, key {:?}",
                q.shape, v.shape, k.shape
            )));
        }
        let (b, tq, d) = (q.shape[0], q.shape[1], q.shape[2]);
        let (tv, dv) = (v.shape[1], v.shape[2]);
        if k.shape[0] != b || v.shape[0] != b || k.shape[1] != tv || k.shape[2] != d {
            return Err(Error::Shape(format!(
                "Attention inputs do not fit: query {:?}, value {:?}, key {:?}",
                q.shape, v.shape, k.shape
            )));
        }
        self.dims = (tq, tv, d, dv);
        let n = b * tq * tv;
        self.raw.resize(n, 0.0);
        self.w.resize(n, 0.0);
        let scale = self.scale_value();
        match self.config.score_mode {
            ScoreMode::Dot => {
                per_sample(
                    gemm::gemm_nt,
                    b,
                    (tq, d, tv),
                    &q.data,
                    &k.data,
                    &mut self.raw,
                );
                for (w, r) in self.w.iter_mut().zip(&self.raw) {
                    *w = r * scale;
                }
            }
            ScoreMode::Concat => {
                let cw = self.concat_w.value.data[0];
                for bi in 0..b {
                    for i in 0..tq {
                        let qi = &q.data[(bi * tq + i) * d..(bi * tq + i + 1) * d];
                        for j in 0..tv {
                            let kj = &k.data[(bi * tv + j) * d..(bi * tv + j + 1) * d];
                            let mut s = 0.0f32;
                            for c in 0..d {
                                s += tanh_f32(scale * (qi[c] + kj[c]));
                            }
                            let idx = (bi * tq + i) * tv + j;
                            self.raw[idx] = s;
                            self.w[idx] = cw * s;
                        }
                    }
                }
            }
        }
        // causal mask and softmax over the last axis
        for bi in 0..b {
            for i in 0..tq {
                let row = &mut self.w[(bi * tq + i) * tv..(bi * tq + i + 1) * tv];
                if self.config.use_causal_mask {
                    for (j, s) in row.iter_mut().enumerate() {
                        if j > i {
                            *s -= 1.0e9;
                        }
                    }
                }
                let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0f32;
                for s in row.iter_mut() {
                    *s = exp_f32(*s - m);
                    sum += *s;
                }
                let inv = 1.0 / sum;
                for s in row.iter_mut() {
                    *s *= inv;
                }
            }
        }
        self.dropped = training && self.config.dropout > 0.0;
        let wd: &[f32] = if self.dropped {
            self.mask.resize(n, 0.0);
            fill_mask(&mut self.mask, self.config.dropout, &mut self.rng);
            self.wd.resize(n, 0.0);
            for ((o, w), m) in self.wd.iter_mut().zip(&self.w).zip(&self.mask) {
                *o = w * m;
            }
            &self.wd
        } else {
            &self.w
        };
        let y = &mut outputs[0];
        y.resize_uninit(&[b, tq, dv]);
        per_sample(gemm::gemm_nn, b, (tq, tv, dv), wd, &v.data, &mut y.data);
        if self.config.return_attention_scores {
            outputs[1].resize_uninit(&[b, tq, tv]);
            outputs[1].data.copy_from_slice(wd);
        }
        Ok(())
    }

    fn backward(&mut self, xs: Tensors, _ys: Tensors, dys: Tensors, dxs: Grads) -> Result<()> {
        let (q, v) = (xs[0], xs[1]);
        let has_key = xs.len() == 3;
        let k = if has_key { xs[2] } else { v };
        let b = q.shape[0];
        let (tq, tv, d, dv) = self.dims;
        let n = b * tq * tv;
        let gy = &dys[0].data;
        let wd: &[f32] = if self.dropped { &self.wd } else { &self.w };
        // dL/d(dropped weights) = dy·vᵀ (+ the scores output's gradient)
        self.dwd.resize(n, 0.0);
        per_sample(gemm::gemm_nt, b, (tq, dv, tv), gy, &v.data, &mut self.dwd);
        if self.config.return_attention_scores {
            for (a, g) in self.dwd.iter_mut().zip(&dys[1].data) {
                *a += g;
            }
        }
        // dv = wdᵀ·dy (key = value adds its own part below)
        let want_v = dxs[1].len() == v.len();
        if want_v {
            per_sample(gemm::gemm_tn, b, (tv, tq, dv), wd, gy, &mut dxs[1].data);
        }
        // through dropout and softmax: ds = w ⊙ (dw − Σ_j w·dw)
        if self.dropped {
            for (a, m) in self.dwd.iter_mut().zip(&self.mask) {
                *a *= m;
            }
        }
        self.ds.resize(n, 0.0);
        for r in 0..b * tq {
            let w = &self.w[r * tv..(r + 1) * tv];
            let dw = &self.dwd[r * tv..(r + 1) * tv];
            let dot: f32 = w.iter().zip(dw).map(|(a, b)| a * b).sum();
            for j in 0..tv {
                self.ds[r * tv + j] = w[j] * (dw[j] - dot);
            }
        }
        let scale = self.scale_value();
        let want_q = dxs[0].len() == q.len();
        let want_k = if has_key {
            dxs[2].len() == k.len()
        } else {
            want_v
        };
        self.dkey.resize(b * tv * d, 0.0);
        self.dkey.fill(0.0);
        if want_q {
            dxs[0].data.fill(0.0);
        }
        match self.config.score_mode {
            ScoreMode::Dot => {
                if self.config.use_scale {
                    let g: f32 = self.ds.iter().zip(&self.raw).map(|(a, b)| a * b).sum();
                    self.scale.grad.data[0] += g;
                }
                if want_q {
                    let dq = &mut dxs[0].data;
                    per_sample(gemm::gemm_nn, b, (tq, tv, d), &self.ds, &k.data, dq);
                }
                if want_k {
                    let dk = &mut self.dkey;
                    per_sample(gemm::gemm_tn, b, (tv, tq, d), &self.ds, &q.data, dk);
                }
                if scale != 1.0 {
                    if want_q {
                        dxs[0].data.iter_mut().for_each(|g| *g *= scale);
                    }
                    self.dkey.iter_mut().for_each(|g| *g *= scale);
                }
            }
            ScoreMode::Concat => {
                let cw = self.concat_w.value.data[0];
                let gcw: f32 = self.ds.iter().zip(&self.raw).map(|(a, b)| a * b).sum();
                self.concat_w.grad.data[0] += gcw;
                let mut gscale = 0.0f32;
                for bi in 0..b {
                    for i in 0..tq {
                        let qi = &q.data[(bi * tq + i) * d..(bi * tq + i + 1) * d];
                        for j in 0..tv {
                            let g = self.ds[(bi * tq + i) * tv + j] * cw;
                            if g == 0.0 {
                                continue;
                            }
                            let kj = &k.data[(bi * tv + j) * d..(bi * tv + j + 1) * d];
                            for c in 0..d {
                                let sum = qi[c] + kj[c];
                                let t = tanh_f32(scale * sum);
                                let da = g * (1.0 - t * t);
                                gscale += da * sum;
                                if want_q {
                                    dxs[0].data[(bi * tq + i) * d + c] += da * scale;
                                }
                                self.dkey[(bi * tv + j) * d + c] += da * scale;
                            }
                        }
                    }
                }
                if self.config.use_scale {
                    self.scale.grad.data[0] += gscale;
                }
            }
        }
        if has_key {
            if want_k {
                dxs[2].data.copy_from_slice(&self.dkey);
            }
        } else if want_v {
            for (a, g) in dxs[1].data.iter_mut().zip(&self.dkey) {
                *a += g;
            }
        }
        Ok(())
    }

    fn flops(&self, input_shapes: &[Shape]) -> u64 {
        // scores q·kᵀ (Tq·Tv·d) and the weighted sum of the values (Tq·Tv·dv)
        match input_shapes {
            [q, v, ..] if q.len() == 2 && v.len() == 2 => 2 * (q[0] * v[0] * (q[1] + v[1])) as u64,
            _ => 0,
        }
    }

    fn params(&self) -> Vec<&Param> {
        let (s, concat) = (
            self.config.use_scale,
            self.config.score_mode == ScoreMode::Concat,
        );
        super::present([(&self.scale, s), (&self.concat_w, concat)])
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let (s, concat) = (
            self.config.use_scale,
            self.config.score_mode == ScoreMode::Concat,
        );
        super::present([(&mut self.scale, s), (&mut self.concat_w, concat)])
    }

    fn runtime_state(&self) -> serde_json::Value {
        if self.config.dropout > 0.0 {
            serde_json::json!({ "rng": self.rng })
        } else {
            serde_json::Value::Null
        }
    }

    fn set_runtime_state(&mut self, state: &serde_json::Value) -> Result<()> {
        if let Some(r) = state.get("rng") {
            self.rng = serde_json::from_value(r.clone())
                .map_err(|e| Error::Config(format!("Attention RNG state: {e}")))?;
        }
        Ok(())
    }
}

/// A matrix product of [`gemm`]'s: `C (m×n) = beta·C + op(A)·op(B)`.
type Gemm = fn(usize, usize, usize, &[f32], &[f32], f32, &mut [f32]);

/// One product per batch sample, `C_s = op(A_s)·op(B_s)` (beta 0), over the
/// samples' contiguous blocks of `a`, `b` and `c` (each `len / batch` long).
fn per_sample(
    g: Gemm,
    batch: usize,
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) {
    if batch == 0 || c.is_empty() {
        return;
    }
    if a.is_empty() || b.is_empty() {
        c.fill(0.0); // an empty inner dimension: the product is zero
        return;
    }
    let (la, lb, lc) = (a.len() / batch, b.len() / batch, c.len() / batch);
    let blocks = a.chunks_exact(la).zip(b.chunks_exact(lb));
    for ((a, b), c) in blocks.zip(c.chunks_exact_mut(lc)) {
        g(m, k, n, a, b, 0.0, c);
    }
}

#[cfg(test)]
mod tests {
    use super::AttentionConfig;
    use crate::nn::config_check::{check_config, float32, refused};
    use serde_json::json;

    #[test]
    fn attention_config_reads_writes_and_refuses() {
        // use_causal_mask is a call argument the model reader merged in
        check_config::<AttentionConfig>(
            json!({"name": "att", "trainable": true, "dtype": float32(), "use_scale": true,
                   "score_mode": "concat", "dropout": 0.25, "seed": 7, "use_causal_mask": true}),
            json!({"use_scale": true, "score_mode": "concat", "dropout": 0.25f32, "seed": 7,
                   "use_causal_mask": true, "return_attention_scores": false}),
        );
        for (cfg, key) in [
            (
                json!({"name": "att", "score_mode": "general"}),
                "score_mode",
            ),
            (json!({"name": "att", "dropout": 1.0}), "dropout"),
            (json!({"name": "att", "seed": -1}), "seed"),
            (json!({"name": "att", "causl": true}), "causl"),
        ] {
            let e = refused("Attention", cfg);
            assert!(
                e.contains("'att'") && e.contains(&format!("'{key}'")),
                "{e}"
            );
        }
    }

    /// tf.keras 2 (before 2.11) wrote the causal mask as `causal`.
    #[test]
    fn attention_reads_tf_keras2_causal() {
        for (v, want) in [(true, true), (false, false)] {
            let c: AttentionConfig = crate::nn::config::read_keras(
                "Attention",
                &json!({"name": "att", "causal": v, "dropout": 0.0}),
            )
            .unwrap();
            assert_eq!(c.use_causal_mask, want);
        }
    }
}
