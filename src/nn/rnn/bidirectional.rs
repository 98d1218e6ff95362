//! `Bidirectional`: runs a recurrent layer forwards and a copy of it backwards
//! over the sequence and merges the two outputs (Keras' `keras.layers.Bidirectional`).
//!
//! The backward copy has the same configuration with `go_backwards` flipped and
//! its own weights. With `return_sequences` the backward outputs (produced in
//! reverse time order) are flipped back so that step t of both halves refers to
//! the same input step. Variables: the forward layer's, then the backward layer's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Recurrent;
use crate::error::{Error, Result};
use crate::nn::{
    kind_of_class, Grads, Layer, LayerConfig, Param, Shape, Source, Tensors, VarLayout, LAYERS,
};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// How the two directions are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeMode {
    /// Concatenate along the last axis (Keras' default).
    Concat,
    /// Element-wise sum.
    Sum,
    /// Element-wise product.
    Mul,
    /// Element-wise mean.
    Ave,
    /// No merge: two outputs, forward then backward (Keras' `merge_mode=None`).
    None,
}

impl MergeMode {
    /// Parses Keras' name (`concat`, `sum`, `mul`, `ave`, or `none`/null).
    pub fn from_name(s: Option<&str>) -> Result<Self> {
        Ok(match s {
            Some("concat") => MergeMode::Concat,
            Some("sum") => MergeMode::Sum,
            Some("mul") => MergeMode::Mul,
            Some("ave") => MergeMode::Ave,
            None | Some("none") | Some("None") => MergeMode::None,
            Some(o) => {
                return Err(Error::Config(format!(
                    "unknown Bidirectional merge_mode '{o}' (concat, sum, mul, ave, none)"
                )))
            }
        })
    }
    /// Keras' name (`None` for no merge).
    pub fn name(self) -> Option<&'static str> {
        match self {
            MergeMode::Concat => Some("concat"),
            MergeMode::Sum => Some("sum"),
            MergeMode::Mul => Some("mul"),
            MergeMode::Ave => Some("ave"),
            MergeMode::None => None,
        }
    }
}

fn concat() -> MergeMode {
    MergeMode::Concat
}

/// serde for `merge_mode`: a name, or null / `"none"` for no merge.
mod merge_mode {
    use super::MergeMode;
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<S: Serializer>(m: &MergeMode, s: S) -> Result<S::Ok, S::Error> {
        m.name().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MergeMode, D::Error> {
        let v = Option::<String>::deserialize(d)?;
        MergeMode::from_name(v.as_deref()).map_err(|e| de::Error::custom(e.detail()))
    }
}

/// `keras.layers.Bidirectional`'s options: the wrapped layer (a Keras
/// `{"class_name", "config"}` object, or an experiment table with its own
/// `type`), an optional explicit backward layer, and the merge mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidirectionalConfig {
    /// How the two outputs are merged (`concat`, `sum`, `mul`, `ave`, null / `"none"`).
    #[serde(default = "concat", with = "merge_mode")]
    pub merge_mode: MergeMode,
    /// The forward layer.
    pub layer: Value,
    /// The backward layer (default: a copy of `layer` reading the other way).
    #[serde(default)]
    pub backward_layer: Option<Value>,
}

/// Reads a nested recurrent layer (Keras form, or an experiment table with `type`).
fn nested(v: &Value, key: &str, name: &str) -> Result<Box<dyn Recurrent>> {
    let wrappable = || {
        LAYERS
            .iter()
            .filter(|k| k.recurrent.is_some())
            .map(|k| k.class)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let err = |m: String| {
        Error::Config(format!(
            "layer '{name}' (Bidirectional): option '{key}' {m}"
        ))
    };
    let Value::Object(o) = v else {
        return Err(err(format!(
            "must be a layer like {{ type = \"lstm\", units = 50 }}, got {v}"
        )));
    };
    let (row, src, cfg) = if let Some(kind) = o.get("type") {
        let kind = kind.as_str().unwrap_or("");
        let row = LAYERS
            .iter()
            .find(|k| k.kind == kind)
            .ok_or_else(|| err(format!("has unknown type '{kind}'")))?;
        let mut rest = o.clone();
        rest.remove("type");
        (row, Source::Table(""), Value::Object(rest))
    } else {
        let class = o
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| err("has no class_name".into()))?;
        let row = kind_of_class(class).ok_or_else(|| {
            err(format!(
                "wraps '{class}': Bidirectional supports {}",
                wrappable()
            ))
        })?;
        (
            row,
            Source::Keras,
            o.get("config").cloned().unwrap_or(Value::Null),
        )
    };
    let read = row.recurrent.ok_or_else(|| {
        err(format!(
            "wraps '{}': Bidirectional supports {}",
            row.class,
            wrappable()
        ))
    })?;
    match src {
        Source::Table(_) => read(&cfg, Source::Table(&format!("{name}/{key}"))),
        Source::Keras => read(&cfg, Source::Keras),
    }
}

impl LayerConfig for BidirectionalConfig {
    const CLASS: &'static str = "Bidirectional";
    const KIND: &'static str = "bidirectional";
    const VARS: VarLayout = VarLayout::Bidirectional;

    fn build(self, name: &str) -> Result<Box<dyn Layer>> {
        let fw = nested(&self.layer, "layer", name)?;
        let mut b = Bidirectional::from_boxed(fw, self.merge_mode);
        if let Some(bl) = self.backward_layer.as_ref().filter(|v| !v.is_null()) {
            let bw = nested(bl, "backward_layer", name)?;
            b = b.with_backward_boxed(bw).map_err(|e| {
                Error::Config(format!(
                    "layer '{name}' (Bidirectional): option 'backward_layer' {}",
                    e.detail()
                ))
            })?;
        }
        Ok(Box::new(b))
    }
}

/// Keras' `Bidirectional(layer, merge_mode)`.
///
/// ```
/// use lstmkit::model::Sequential;
/// use lstmkit::nn::{Bidirectional, Dense, MergeMode, LSTM};
/// use lstmkit::Tensor;
/// let mut m = Sequential::new(&[10, 1])
///     .add(Bidirectional::new(LSTM::new(8), MergeMode::Concat))
///     .add(Dense::new(1))
///     .build(3)
///     .unwrap();
/// assert_eq!(m.nodes()[0].output_shapes[0], vec![16]);
/// assert_eq!(m.predict(&Tensor::zeros(&[2, 10, 1])).unwrap().shape, vec![2, 1]);
/// ```
pub struct Bidirectional {
    /// The forward layer.
    pub forward_layer: Box<dyn Recurrent>,
    /// The backward layer (same configuration, `go_backwards` flipped).
    pub backward_layer: Box<dyn Recurrent>,
    /// How the two outputs are merged.
    pub merge_mode: MergeMode,
    fw_out: Vec<Tensor>,
    bw_out: Vec<Tensor>,
    g_fw: Vec<Tensor>,
    g_bw: Vec<Tensor>,
    gin_fw: Vec<Tensor>,
    gin_bw: Vec<Tensor>,
    seq: bool,
    state: bool,
    n_states: usize,
}

impl Bidirectional {
    /// Wraps any recurrent layer (an [`LSTM`](super::LSTM), [`GRU`](super::GRU),
    /// [`SimpleRNN`](super::SimpleRNN)); the backward copy is made from its configuration.
    pub fn new(layer: impl Recurrent + 'static, merge_mode: MergeMode) -> Self {
        Self::from_boxed(Box::new(layer), merge_mode)
    }

    /// [`Bidirectional::new`] for a boxed layer.
    pub fn from_boxed(fw: Box<dyn Recurrent>, merge_mode: MergeMode) -> Self {
        let bw = fw.reversed_copy();
        Bidirectional {
            forward_layer: fw,
            backward_layer: bw,
            merge_mode,
            fw_out: Vec::new(),
            bw_out: Vec::new(),
            g_fw: Vec::new(),
            g_bw: Vec::new(),
            gin_fw: Vec::new(),
            gin_bw: Vec::new(),
            seq: false,
            state: false,
            n_states: 0,
        }
    }

    /// Uses `layer` as the backward layer instead of the copy (Keras' `backward_layer`):
    /// it must read the sequence in the other direction and agree on
    /// `return_sequences` and `return_state`.
    pub fn with_backward_layer(self, layer: impl Recurrent + 'static) -> Result<Self> {
        self.with_backward_boxed(Box::new(layer))
    }

    /// [`Bidirectional::with_backward_layer`] for a boxed layer.
    pub fn with_backward_boxed(mut self, bw: Box<dyn Recurrent>) -> Result<Self> {
        let (fo, bo) = (self.forward_layer.options(), bw.options());
        if bo.go_backwards == fo.go_backwards {
            return Err(Error::Config(format!(
                "Bidirectional: the forward and backward layers must have different go_backwards values (both are {})",
                fo.go_backwards
            )));
        }
        if bo.return_sequences != fo.return_sequences || bo.return_state != fo.return_state {
            return Err(Error::Config(
                "Bidirectional: the forward and backward layers must agree on return_sequences and return_state".into(),
            ));
        }
        self.backward_layer = bw;
        Ok(self)
    }

    fn n_merged(&self) -> usize {
        if self.merge_mode == MergeMode::None {
            2
        } else {
            1
        }
    }
}

/// Reverses the time axis of a (B, T, u) buffer into `dst`.
fn flip_time(src: &[f32], b: usize, t: usize, u: usize, dst: &mut [f32]) {
    for bi in 0..b {
        for s in 0..t {
            let from = (bi * t + s) * u;
            let to = (bi * t + (t - 1 - s)) * u;
            dst[to..to + u].copy_from_slice(&src[from..from + u]);
        }
    }
}

impl Layer for Bidirectional {
    fn class_name(&self) -> &'static str {
        "Bidirectional"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        crate::nn::one_input("Bidirectional", input_shapes)?;
        let fo = self.forward_layer.as_layer_mut().build(input_shapes, rng)?;
        let bo = self
            .backward_layer
            .as_layer_mut()
            .build(input_shapes, rng)?;
        for (layer, dir) in [
            (&mut self.forward_layer, "forward"),
            (&mut self.backward_layer, "backward"),
        ] {
            let pre = layer.kind();
            for p in layer.as_layer_mut().params_mut() {
                let base = p.name.rsplit('/').next().unwrap_or("").to_string();
                p.name = format!("{dir}_{pre}/{base}");
            }
        }
        self.seq = self.forward_layer.options().return_sequences;
        self.state = self.forward_layer.options().return_state;
        self.n_states = fo.len() - 1;
        let main = &fo[0];
        let mut outs = Vec::new();
        let same = fo[0] == bo[0];
        match self.merge_mode {
            MergeMode::Concat => {
                let mut s = main.clone();
                *s.last_mut().expect("rank ≥ 1") += *bo[0].last().expect("rank ≥ 1");
                outs.push(s);
            }
            MergeMode::Sum | MergeMode::Mul | MergeMode::Ave if !same => {
                return Err(Error::Shape(format!(
                    "Bidirectional merge_mode {:?} needs forward and backward outputs of the same shape, got {} and {}",
                    self.merge_mode.name().unwrap_or("None"),
                    crate::nn::fmt_shape(&fo[0]),
                    crate::nn::fmt_shape(&bo[0])
                )));
            }
            MergeMode::None => {
                outs.push(main.clone());
                outs.push(bo[0].clone());
            }
            _ => outs.push(main.clone()),
        }
        outs.extend(fo[1..].iter().cloned());
        outs.extend(bo[1..].iter().cloned());
        let n = fo.len();
        self.fw_out = vec![Tensor::default(); n];
        self.bw_out = vec![Tensor::default(); n];
        self.g_fw = vec![Tensor::default(); n];
        self.g_bw = vec![Tensor::default(); n];
        self.gin_fw = vec![Tensor::default()];
        self.gin_bw = vec![Tensor::default()];
        Ok(outs)
    }

    fn num_outputs(&self) -> usize {
        self.n_merged() + 2 * self.n_states
    }

    fn forward(&mut self, inputs: Tensors, outputs: &mut [Tensor], training: bool) -> Result<()> {
        self.forward_layer
            .as_layer_mut()
            .forward(inputs, &mut self.fw_out, training)?;
        self.backward_layer
            .as_layer_mut()
            .forward(inputs, &mut self.bw_out, training)?;
        let y = &self.fw_out[0];
        let yr_raw = &self.bw_out[0];
        // align the backward output in time
        let yr: &Tensor = if self.seq {
            let (b, t, u) = (yr_raw.shape[0], yr_raw.shape[1], yr_raw.shape[2]);
            let dst = &mut self.g_bw[0]; // scratch, overwritten in backward
            dst.resize_uninit(&yr_raw.shape);
            flip_time(&yr_raw.data, b, t, u, &mut dst.data);
            &self.g_bw[0]
        } else {
            yr_raw
        };
        match self.merge_mode {
            MergeMode::Concat => {
                let u = *y.shape.last().expect("rank ≥ 2");
                let ub = *yr.shape.last().expect("rank ≥ 2");
                let w = u + ub;
                let rows = y.len() / u;
                let mut shape = y.shape.clone();
                *shape.last_mut().expect("rank ≥ 2") = w;
                let o = &mut outputs[0];
                o.resize_uninit(&shape);
                for r in 0..rows {
                    o.data[r * w..r * w + u].copy_from_slice(&y.data[r * u..(r + 1) * u]);
                    o.data[r * w + u..(r + 1) * w].copy_from_slice(&yr.data[r * ub..(r + 1) * ub]);
                }
            }
            MergeMode::None => {
                outputs[0].resize_uninit(&y.shape);
                outputs[0].data.copy_from_slice(&y.data);
                outputs[1].resize_uninit(&yr.shape);
                outputs[1].data.copy_from_slice(&yr.data);
            }
            m => {
                let o = &mut outputs[0];
                o.resize_uninit(&y.shape);
                let it = o.data.iter_mut().zip(&y.data).zip(&yr.data);
                match m {
                    MergeMode::Sum => it.for_each(|((o, a), b)| *o = a + b),
                    MergeMode::Mul => it.for_each(|((o, a), b)| *o = a * b),
                    _ => it.for_each(|((o, a), b)| *o = (a + b) * 0.5),
                }
            }
        }
        let k0 = self.n_merged();
        for k in 0..self.n_states {
            let src = &self.fw_out[1 + k];
            outputs[k0 + k].resize_uninit(&src.shape);
            outputs[k0 + k].data.copy_from_slice(&src.data);
            let src = &self.bw_out[1 + k];
            let o = &mut outputs[k0 + self.n_states + k];
            o.resize_uninit(&src.shape);
            o.data.copy_from_slice(&src.data);
        }
        Ok(())
    }

    fn backward(&mut self, xs: Tensors, _ys: Tensors, dys: Tensors, dxs: Grads) -> Result<()> {
        let y = &self.fw_out[0];
        let yr_raw = &self.bw_out[0];
        for k in 0..self.fw_out.len() {
            let s = self.fw_out[k].shape.clone();
            self.g_fw[k].resize_uninit(&s);
            let s = self.bw_out[k].shape.clone();
            self.g_bw[k].resize_uninit(&s);
        }
        // gradient w.r.t. the time-aligned backward output, written into g_bw[0]
        // (flipped at the end); the aligned backward output itself is recomputed
        // where needed (mul).
        let go = dys[0];
        let (gf, gb) = (&mut self.g_fw[0].data, &mut self.g_bw[0].data);
        let aligned = |r: usize, j: usize, u: usize| -> f32 {
            if self.seq {
                let t = yr_raw.shape[1];
                let (bi, s) = (r / t, r % t);
                yr_raw.data[(bi * t + (t - 1 - s)) * u + j]
            } else {
                yr_raw.data[r * u + j]
            }
        };
        match self.merge_mode {
            MergeMode::Concat => {
                let u = *y.shape.last().expect("rank ≥ 2");
                let ub = *yr_raw.shape.last().expect("rank ≥ 2");
                let w = u + ub;
                let rows = y.len() / u;
                for r in 0..rows {
                    gf[r * u..(r + 1) * u].copy_from_slice(&go.data[r * w..r * w + u]);
                    gb[r * ub..(r + 1) * ub].copy_from_slice(&go.data[r * w + u..(r + 1) * w]);
                }
            }
            MergeMode::None => {
                gf.copy_from_slice(&go.data);
                gb.copy_from_slice(&dys[1].data);
            }
            MergeMode::Sum => {
                gf.copy_from_slice(&go.data);
                gb.copy_from_slice(&go.data);
            }
            MergeMode::Ave => {
                for ((a, b), g) in gf.iter_mut().zip(gb.iter_mut()).zip(&go.data) {
                    *a = 0.5 * g;
                    *b = 0.5 * g;
                }
            }
            MergeMode::Mul => {
                let u = *y.shape.last().expect("rank ≥ 2");
                let rows = y.len() / u;
                for r in 0..rows {
                    for j in 0..u {
                        let i = r * u + j;
                        gf[i] = go.data[i] * aligned(r, j, u);
                        gb[i] = go.data[i] * y.data[i];
                    }
                }
            }
        }
        if self.seq {
            let (b, t, u) = (yr_raw.shape[0], yr_raw.shape[1], yr_raw.shape[2]);
            // flip the aligned gradient back into processing order (via gin_bw as scratch)
            let tmp = &mut self.gin_bw[0];
            tmp.resize_uninit(&self.g_bw[0].shape);
            tmp.data.copy_from_slice(&self.g_bw[0].data);
            flip_time(&tmp.data, b, t, u, &mut self.g_bw[0].data);
        }
        let k0 = self.n_merged();
        for k in 0..self.n_states {
            self.g_fw[1 + k].data.copy_from_slice(&dys[k0 + k].data);
            self.g_bw[1 + k]
                .data
                .copy_from_slice(&dys[k0 + self.n_states + k].data);
        }
        let want = dxs[0].len() == xs[0].len();
        for gi in [&mut self.gin_fw[0], &mut self.gin_bw[0]] {
            if want {
                gi.resize_uninit(&xs[0].shape);
            } else {
                gi.resize_zeroed(&[0]);
            }
        }
        {
            let outs: Vec<&Tensor> = self.fw_out.iter().collect();
            let gs: Vec<&Tensor> = self.g_fw.iter().collect();
            self.forward_layer
                .as_layer_mut()
                .backward(xs, &outs, &gs, &mut self.gin_fw)?;
        }
        {
            let outs: Vec<&Tensor> = self.bw_out.iter().collect();
            let gs: Vec<&Tensor> = self.g_bw.iter().collect();
            self.backward_layer
                .as_layer_mut()
                .backward(xs, &outs, &gs, &mut self.gin_bw)?;
        }
        if want {
            let gx = &mut dxs[0].data;
            for ((o, a), b) in gx
                .iter_mut()
                .zip(&self.gin_fw[0].data)
                .zip(&self.gin_bw[0].data)
            {
                *o = a + b;
            }
        }
        Ok(())
    }

    fn flops(&self, input_shapes: &[Shape]) -> u64 {
        self.forward_layer.as_layer().flops(input_shapes)
            + self.backward_layer.as_layer().flops(input_shapes)
    }

    fn params(&self) -> Vec<&Param> {
        let mut v = self.forward_layer.as_layer().params();
        v.extend(self.backward_layer.as_layer().params());
        v
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut v = self.forward_layer.as_layer_mut().params_mut();
        v.extend(self.backward_layer.as_layer_mut().params_mut());
        v
    }

    fn config(&self) -> serde_json::Value {
        let ser = |r: &dyn Recurrent, dir: &str| {
            let inner = r.as_layer();
            let mut c = inner.config();
            if let Some(o) = c.as_object_mut() {
                o.insert(
                    "name".into(),
                    serde_json::json!(format!("{dir}_{}", r.kind())),
                );
            }
            serde_json::json!({
                "module": "keras.layers",
                "class_name": inner.class_name(),
                "config": c,
                "registered_name": serde_json::Value::Null,
            })
        };
        serde_json::json!({
            "merge_mode": self.merge_mode.name(),
            "layer": ser(self.forward_layer.as_ref(), "forward"),
            "backward_layer": ser(self.backward_layer.as_ref(), "backward"),
        })
    }

    fn reset_states(&mut self) {
        self.forward_layer.as_layer_mut().reset_states();
        self.backward_layer.as_layer_mut().reset_states();
    }

    fn runtime_state(&self) -> serde_json::Value {
        let f = self.forward_layer.as_layer().runtime_state();
        let b = self.backward_layer.as_layer().runtime_state();
        if f.is_null() && b.is_null() {
            serde_json::Value::Null
        } else {
            serde_json::json!({"forward": f, "backward": b})
        }
    }

    fn set_runtime_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let null = serde_json::Value::Null;
        self.forward_layer
            .as_layer_mut()
            .set_runtime_state(state.get("forward").unwrap_or(&null))?;
        self.backward_layer
            .as_layer_mut()
            .set_runtime_state(state.get("backward").unwrap_or(&null))?;
        Ok(())
    }
}
