//! The recurrent base, as Keras' `RNN` is for its cells: everything a
//! recurrent layer does around one cell lives here once — `return_sequences`,
//! `return_state`, `go_backwards`, `stateful` states, initial states given as
//! inputs, dropout masks, splitting the batch over threads and gathering the
//! outputs and gradients. A [`Cell`] owns only its weights and its fused
//! forward and backward passes over a block of batch rows (a shard).
//!
//! Layout of a shard's buffers (the cell's own): inputs time-major in
//! processing order (T, b, F); hidden states (T+1, b, u) with the initial
//! state first.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{check_rate, RnnDropout};
use super::weights::{WeightConfig, Weights};
use crate::error::{Error, Result};
use crate::nn::activation::{simd_level, SimdLevel};
use crate::nn::config::{self, Ignored, Unsupported};
use crate::nn::{fmt_shape, Grads, Initializer, Layer, Param, Shape, Tensors};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

/// The options of Keras' `RNN` base shared by every recurrent layer, with
/// Keras' names and defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnOptions {
    /// Output the whole sequence (B, T, u) instead of the last state (B, u).
    #[serde(default)]
    pub return_sequences: bool,
    /// Also output the final states (h, and c for an LSTM).
    #[serde(default)]
    pub return_state: bool,
    /// Read the sequence backwards (outputs are in processing order, as in Keras).
    #[serde(default)]
    pub go_backwards: bool,
    /// Carry the final state of each sample into the next batch.
    #[serde(default)]
    pub stateful: bool,
    /// Fraction of the inputs dropped in training (one mask per sequence, Keras 3).
    #[serde(default, deserialize_with = "config::rate")]
    pub dropout: f32,
    /// Fraction of the recurrent state dropped in training (one mask per sequence and gate).
    #[serde(default, deserialize_with = "config::rate")]
    pub recurrent_dropout: f32,
    /// Keras' seed for the dropout masks (kept for export; lstmkit draws from the model's seed).
    #[serde(default, deserialize_with = "config::seed")]
    pub seed: Option<u64>,
    /// Changes only how Keras schedules the loop.
    #[serde(default, skip_serializing)]
    pub unroll: Ignored,
    /// Changes only how Keras groups the matrix products.
    #[serde(default, skip_serializing)]
    pub implementation: Ignored,
    /// tf.keras 2's time-major inputs.
    #[serde(default, skip_serializing)]
    pub time_major: Unsupported,
    /// Only matters with a mask (Keras' `Bidirectional` sets it on its halves).
    #[serde(default, skip_serializing)]
    pub zero_output_for_mask: Ignored,
    /// Not implemented.
    #[serde(default, skip_serializing)]
    pub activity_regularizer: Unsupported,
}

/// What a cell's shard pass needs to know about the call.
#[derive(Clone, Copy, Debug)]
pub struct Seq {
    /// Rows in this shard.
    pub b: usize,
    /// Timesteps.
    pub t: usize,
    /// Input features.
    pub f: usize,
    /// Units.
    pub u: usize,
    /// Read the sequence backwards.
    pub go_backwards: bool,
    /// The loss sees every step's output.
    pub return_sequences: bool,
    /// The SIMD level the fused kernels run at.
    pub level: SimdLevel,
}

impl Seq {
    /// Copies the shard's (b, T, F) rows `x` into `xs` time-major, in processing order.
    pub fn to_time_major(&self, x: &[f32], xs: &mut Vec<f32>) {
        let (b, t, f) = (self.b, self.t, self.f);
        xs.resize(t * b * f, 0.0);
        for s in 0..t {
            let ts = if self.go_backwards { t - 1 - s } else { s };
            for bi in 0..b {
                let src = &x[(bi * t + ts) * f..(bi * t + ts + 1) * f];
                xs[(s * b + bi) * f..(s * b + bi + 1) * f].copy_from_slice(src);
            }
        }
    }

    /// Adds the output gradient of processing step `s` to `dh` (b·u): every step
    /// with `return_sequences`, else only the last. `gy` is the shard's rows of dL/dy.
    pub fn add_output_grad(&self, s: usize, gy: &[f32], dh: &mut [f32]) {
        let (b, t, u) = (self.b, self.t, self.u);
        if self.return_sequences {
            for bi in 0..b {
                let src = &gy[(bi * t + s) * u..(bi * t + s + 1) * u];
                for (d, g) in dh[bi * u..(bi + 1) * u].iter_mut().zip(src) {
                    *d += g;
                }
            }
        } else if s == t - 1 {
            for (d, g) in dh.iter_mut().zip(gy) {
                *d += g;
            }
        }
    }
}

/// What one shard's forward or backward pass reads besides its own buffers.
#[derive(Clone, Copy)]
pub struct Pass<'a> {
    /// The layer's weights.
    pub w: &'a Weights,
    /// The shard's shape.
    pub s: Seq,
    /// The dropout masks (of exactly the shard's rows; dropout runs unsharded).
    pub d: &'a RnnDropout,
}

/// The gradients a shard's backward pass starts from, and what it must give back.
pub struct Upstream<'a> {
    /// The shard's rows of dL/d(output 0).
    pub gy: &'a [f32],
    /// dL/d(each returned state), None where the state is not returned.
    pub gstate: &'a [Option<&'a [f32]>],
    /// Whether dL/d(initial states) is needed.
    pub need_init: bool,
    /// Whether dL/dx is needed.
    pub need_x: bool,
}

/// The most states a cell carries (LSTM's h and c).
pub const MAX_STATES: usize = 2;

/// One recurrent cell: its options, weights and fused step math over a shard.
pub trait Cell: Send + Sync + Sized + 'static {
    /// The cell's own options, with Keras' names and defaults.
    type Config: Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;
    /// Per-shard buffers, reused between batches.
    type Shard: Default + Send;
    /// Keras' class name.
    const CLASS: &'static str;
    /// The experiment-file `type`.
    const KIND: &'static str;
    /// The carried states, by their names in saved run-time state (`h`, `c`).
    /// At most [`MAX_STATES`] entries.
    const STATES: &'static [&'static str];
    /// Gate blocks of the kernels (one dropout mask each with recurrent dropout).
    const GATES: usize;

    /// The options of `units` hidden units and Keras' defaults.
    fn default_config(units: usize) -> Self::Config;
    /// A cell with these options and no weights.
    fn from_config(config: Self::Config) -> Self;
    /// The options.
    fn config(&self) -> &Self::Config;
    /// Hidden width u.
    fn units(&self) -> usize;
    /// Checks the cell's options that the types do not (supported
    /// activations, say); `units` > 0 is checked by [`Cell::validate`].
    fn check(&self) -> Result<()> {
        Ok(())
    }
    /// `units` > 0, then the cell's own [`Cell::check`].
    fn validate(&self) -> Result<()> {
        if self.units() == 0 {
            return Err(Error::Config("option 'units' must be > 0".into()));
        }
        self.check()
    }
    /// The bias shape (Keras': `(G·u)`; GRU's `reset_after` has two rows).
    fn bias_shape(&self) -> Vec<usize> {
        vec![Self::GATES * self.units()]
    }
    /// Adjusts a newly initialised bias (the LSTM's `unit_forget_bias`).
    fn init_bias(&self, _bias: &mut [f32]) {}
    /// Forward pass of one shard: `x` its (b, T, F) rows, `init` the initial
    /// state rows (one per [`Cell::STATES`], None = zeros).
    fn forward(&self, p: &Pass, sh: &mut Self::Shard, x: &[f32], init: &[Option<&[f32]>]);
    /// Hidden states (T+1, b, u) of the last forward pass.
    fn hs(sh: &Self::Shard) -> &[f32];
    /// Final state `k` (b·u) of the last forward pass; by default the last
    /// hidden state (cells with one state).
    fn final_state(sh: &Self::Shard, _k: usize, bu: usize) -> &[f32] {
        let hs = Self::hs(sh);
        &hs[hs.len() - bu..]
    }
    /// Called once before the shards' backward passes (transposed weights, say).
    fn prepare_backward(&mut self, _w: &Weights, _need_x: bool, _d: &RnnDropout) {}
    /// Backward pass of one shard: `gy` its rows of dL/d(output 0), `gstate`
    /// the gradients of the returned states. Leaves partial weight gradients,
    /// dL/dx time-major when `need_x`, and dL/d(initial states).
    fn backward(&self, p: &Pass, sh: &mut Self::Shard, g: &Upstream);
    /// dL/dx (T, b, F), time-major in processing order, of the last backward pass.
    fn dxs(sh: &Self::Shard) -> &[f32];
    /// dL/d(initial state `k`) (b·u) of the last backward pass.
    fn d_init(sh: &Self::Shard, k: usize) -> &[f32];
    /// A shard's partial gradients of kernel, recurrent kernel and bias.
    fn grads(sh: &Self::Shard) -> [&[f32]; 3];
}

/// A recurrent layer: the base options around one [`Cell`].
pub struct Rnn<C: Cell> {
    /// The base options (`return_sequences`, `stateful`, dropout, ...).
    pub options: RnnOptions,
    /// The weight options (`use_bias`, initialisers, regularisers).
    pub weight_config: WeightConfig,
    /// The cell: its options and weights.
    pub cell: C,
    weights: Weights,
    drop: RnnDropout,
    f_in: usize,
    states: Vec<Vec<f32>>, // one per C::STATES, each (B·u) once a stateful call ran
    shards: Vec<C::Shard>,
    n_shards: usize,
    b: usize,
    t: usize,
}

/// Rows per shard below which splitting the batch over threads does not pay.
const MIN_SHARD_ROWS: usize = 16;

impl<C: Cell> Rnn<C> {
    /// A layer with `units` hidden units and Keras' defaults (cell and base).
    pub fn new(units: usize) -> Self {
        Self::with_cell(C::default_config(units))
    }
    /// A layer with these cell options and the base defaults.
    pub fn with_cell(config: C::Config) -> Self {
        Rnn {
            options: RnnOptions::default(),
            weight_config: WeightConfig::default(),
            cell: C::from_config(config),
            weights: Weights::default(),
            drop: RnnDropout::default(),
            f_in: 0,
            states: vec![Vec::new(); C::STATES.len()],
            shards: Vec::new(),
            n_shards: 1,
            b: 0,
            t: 0,
        }
    }
    setters! { options =>
        /// Sets `return_sequences`.
        return_sequences: bool,
        /// Sets `return_state`.
        return_state: bool,
        /// Sets `go_backwards`.
        go_backwards: bool,
        /// Sets `stateful`.
        stateful: bool,
        /// Sets the input dropout rate (training only; Keras' time-constant masks).
        dropout: f32,
        /// Sets the recurrent dropout rate (training only; one mask per gate, as Keras 3).
        recurrent_dropout: f32,
    }
    setters! { weight_config =>
        /// Sets `use_bias`.
        use_bias: bool,
        /// Sets the kernel initialiser.
        kernel_initializer: Initializer,
        /// Sets the recurrent kernel initialiser.
        recurrent_initializer: Initializer,
        /// Sets the bias initialiser.
        bias_initializer: Initializer,
        /// Sets the kernel regulariser.
        kernel_regularizer: Regularizer,
        /// Sets the recurrent kernel regulariser.
        recurrent_regularizer: Regularizer,
        /// Sets the bias regulariser.
        bias_regularizer: Regularizer,
    }
    /// The stored states of a stateful layer (one per state, each B·u long;
    /// empty before the first call).
    pub fn states(&self) -> &[Vec<f32>] {
        &self.states
    }
    /// A fresh layer with the same options and no weights.
    pub fn clone_config(&self) -> Self {
        let mut l = Self::with_cell(self.cell.config().clone());
        l.options = self.options.clone();
        l.weight_config = self.weight_config.clone();
        l
    }
    fn seq(&self, b: usize, t: usize) -> Seq {
        Seq {
            b,
            t,
            f: self.f_in,
            u: self.cell.units(),
            go_backwards: self.options.go_backwards,
            return_sequences: self.options.return_sequences,
            level: simd_level(),
        }
    }
    fn rows(&self, k: usize) -> (usize, usize) {
        let (b, n) = (self.b, self.n_shards);
        (k * b / n, (k + 1) * b / n)
    }
}

/// Runs `f` on each of the first `n` shards, on threads when `n > 1`.
fn each_shard<S: Send>(shards: &mut [S], n: usize, f: impl Fn(usize, &mut S) + Sync) {
    if n == 1 {
        f(0, &mut shards[0]);
    } else {
        use rayon::prelude::*;
        shards[..n]
            .par_iter_mut()
            .enumerate()
            .for_each(|(k, s)| f(k, s));
    }
}

impl<C: Cell> Layer for Rnn<C> {
    fn class_name(&self) -> &'static str {
        C::CLASS
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        let class = C::CLASS;
        check_rate(class, "dropout", self.options.dropout)?;
        check_rate(class, "recurrent_dropout", self.options.recurrent_dropout)?;
        self.cell.validate()?;
        let n_states = C::STATES.len();
        if input_shapes.is_empty()
            || (input_shapes.len() != 1 && input_shapes.len() != 1 + n_states)
        {
            return Err(Error::Shape(format!(
                "{class} takes one input, or {} (x and the initial {}); got {}",
                1 + n_states,
                C::STATES.join(", "),
                input_shapes.len()
            )));
        }
        let s = &input_shapes[0];
        if s.len() != 2 {
            return Err(Error::Shape(format!(
                "{class} expects a 3-D input (batch, timesteps, features) but receives {}{}",
                fmt_shape(s),
                if s.len() == 1 {
                    ": the previous layer returns only its last step; set return_sequences=true on it"
                } else {
                    ""
                }
            )));
        }
        let u = self.cell.units();
        let f = s[1];
        if f == 0 {
            return Err(Error::Shape(format!("{class} needs a known feature width")));
        }
        for st in &input_shapes[1..] {
            if st != &vec![u] {
                return Err(Error::Shape(format!(
                    "{class} initial state must be (None, {u}), got {}",
                    fmt_shape(st)
                )));
            }
        }
        let cell = &self.cell;
        self.weights.build(
            &self.weight_config,
            f,
            u,
            C::GATES * u,
            &cell.bias_shape(),
            |b| cell.init_bias(b),
            rng,
        );
        self.f_in = f;
        self.drop.rate = self.options.dropout;
        self.drop.rec_rate = self.options.recurrent_dropout;
        self.drop.rng = rng.fork();
        let mut outs = vec![if self.options.return_sequences {
            vec![s[0], u]
        } else {
            vec![u]
        }];
        if self.options.return_state {
            outs.extend(std::iter::repeat_n(vec![u], n_states));
        }
        Ok(outs)
    }

    fn num_outputs(&self) -> usize {
        1 + if self.options.return_state {
            C::STATES.len()
        } else {
            0
        }
    }

    fn forward(&mut self, inputs: Tensors, outputs: &mut [Tensor], training: bool) -> Result<()> {
        let class = C::CLASS;
        let x = inputs[0];
        if x.ndim() != 3 || x.shape[2] != self.f_in {
            return Err(Error::Shape(format!(
                "{class} expects input (batch, timesteps, {}), got {:?}",
                self.f_in, x.shape
            )));
        }
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let u = self.cell.units();
        if t == 0 {
            return Err(Error::Shape(format!("{class} input has 0 timesteps")));
        }
        let bu = b * u;
        let n_states = C::STATES.len();
        // initial states: inputs, the carried states of a stateful layer, or zeros
        // (a fixed array: the time loop's layer allocates nothing once warm)
        let mut init: [Option<&[f32]>; MAX_STATES] = [None; MAX_STATES];
        if inputs.len() == 1 + n_states {
            for k in 0..n_states {
                if inputs[1 + k].len() != bu {
                    return Err(Error::Shape(format!(
                        "{class} initial state must be ({b}, {u}), got {:?}",
                        inputs[1 + k].shape
                    )));
                }
                init[k] = Some(&inputs[1 + k].data);
            }
        } else if self.options.stateful && self.states[0].len() == bu {
            for k in 0..n_states {
                init[k] = Some(&self.states[k]);
            }
        } else if self.options.stateful && !self.states[0].is_empty() {
            return Err(Error::Shape(format!(
                "stateful {class} was called with batch size {} before and {b} now; stateful layers need a fixed batch size (call reset_states() to start over)",
                self.states[0].len() / u
            )));
        }
        self.drop.draw(training, C::GATES, b, f, u);
        // split the batch over threads (dropout masks are drawn for the whole batch: unsharded)
        let n = if self.drop.in_on || self.drop.rec_on {
            1
        } else {
            (b / MIN_SHARD_ROWS).clamp(1, rayon::current_num_threads().max(1))
        };
        if self.shards.len() < n {
            self.shards.resize_with(n, C::Shard::default);
        }
        self.n_shards = n;
        self.b = b;
        self.t = t;
        let (cell, wts, d) = (&self.cell, &self.weights, &self.drop);
        let whole = self.seq(b, t);
        let seq = |rows: usize| Seq { b: rows, ..whole };
        each_shard(&mut self.shards, n, |k, sh| {
            let (r0, r1) = (k * b / n, (k + 1) * b / n);
            let mut rows_init: [Option<&[f32]>; MAX_STATES] = [None; MAX_STATES];
            for (r, s) in rows_init.iter_mut().zip(&init[..n_states]) {
                *r = s.map(|s| &s[r0 * u..r1 * u]);
            }
            let p = Pass {
                w: wts,
                s: seq(r1 - r0),
                d,
            };
            cell.forward(
                &p,
                sh,
                &x.data[r0 * t * f..r1 * t * f],
                &rows_init[..n_states],
            );
        });
        // gather the outputs
        let o = &self.options;
        if o.return_sequences {
            outputs[0].resize_uninit(&[b, t, u]);
        } else {
            outputs[0].resize_uninit(&[b, u]);
        }
        if o.return_state {
            for out in &mut outputs[1..1 + n_states] {
                out.resize_uninit(&[b, u]);
            }
        }
        if o.stateful {
            for s in &mut self.states {
                s.resize(bu, 0.0);
            }
        }
        for k in 0..n {
            let sh = &self.shards[k];
            let (r0, r1) = self.rows(k);
            let bs = r1 - r0;
            let hs = C::hs(sh);
            if o.return_sequences {
                let y = &mut outputs[0].data;
                for s in 0..t {
                    for bi in 0..bs {
                        let src = &hs[(s + 1) * bs * u + bi * u..(s + 1) * bs * u + (bi + 1) * u];
                        y[((r0 + bi) * t + s) * u..((r0 + bi) * t + s + 1) * u]
                            .copy_from_slice(src);
                    }
                }
            } else {
                outputs[0].data[r0 * u..r1 * u].copy_from_slice(&hs[t * bs * u..]);
            }
            for j in 0..n_states {
                let last = C::final_state(sh, j, bs * u);
                if o.return_state {
                    outputs[1 + j].data[r0 * u..r1 * u].copy_from_slice(last);
                }
                if o.stateful {
                    self.states[j][r0 * u..r1 * u].copy_from_slice(last);
                }
            }
        }
        Ok(())
    }

    fn backward(&mut self, xs: Tensors, _ys: Tensors, dys: Tensors, dxs: Grads) -> Result<()> {
        let u = self.cell.units();
        let f = self.f_in;
        let (b, t, n) = (self.b, self.t, self.n_shards);
        let bu = b * u;
        let n_states = C::STATES.len();
        let need_x = dxs[0].len() == t * b * f;
        let need_init = xs.len() == 1 + n_states
            && (1..=n_states).any(|k| dxs.get(k).is_some_and(|g| g.len() == bu));
        self.cell
            .prepare_backward(&self.weights, need_x, &self.drop);
        let gy = &dys[0].data;
        let per = if self.options.return_sequences {
            t * u
        } else {
            u
        };
        let mut gstates: [Option<&[f32]>; MAX_STATES] = [None; MAX_STATES];
        for (k, g) in gstates.iter_mut().enumerate().take(n_states) {
            *g = self.options.return_state.then(|| &dys[1 + k].data[..]);
        }
        let (cell, wts, d) = (&self.cell, &self.weights, &self.drop);
        let whole = self.seq(b, t);
        let seq = |rows: usize| Seq { b: rows, ..whole };
        each_shard(&mut self.shards, n, |k, sh| {
            let (r0, r1) = (k * b / n, (k + 1) * b / n);
            let mut rows_g: [Option<&[f32]>; MAX_STATES] = [None; MAX_STATES];
            for (r, g) in rows_g.iter_mut().zip(&gstates[..n_states]) {
                *r = g.map(|g| &g[r0 * u..r1 * u]);
            }
            let p = Pass {
                w: wts,
                s: seq(r1 - r0),
                d,
            };
            let g = Upstream {
                gy: &gy[r0 * per..r1 * per],
                gstate: &rows_g[..n_states],
                need_init,
                need_x,
            };
            cell.backward(&p, sh, &g);
        });
        for k in 0..n {
            let (r0, r1) = self.rows(k);
            let bs = r1 - r0;
            let sh = &self.shards[k];
            self.weights.add_grads(C::grads(sh));
            if need_x {
                let dx_tm = C::dxs(sh);
                let gx = &mut dxs[0].data;
                for s in 0..t {
                    let ts = if self.options.go_backwards {
                        t - 1 - s
                    } else {
                        s
                    };
                    for bi in 0..bs {
                        let dst = ((r0 + bi) * t + ts) * f;
                        gx[dst..dst + f]
                            .copy_from_slice(&dx_tm[(s * bs + bi) * f..(s * bs + bi + 1) * f]);
                    }
                }
            }
            if need_init {
                for j in 0..n_states {
                    if dxs[1 + j].len() == bu {
                        dxs[1 + j].data[r0 * u..r1 * u].copy_from_slice(C::d_init(sh, j));
                    }
                }
            }
        }
        Ok(())
    }

    fn flops(&self, input_shapes: &[Shape]) -> u64 {
        // per step: x·W (F × G·u) and h·U (u × G·u)
        let (t, f) = match input_shapes.first().map(|s| s.as_slice()) {
            Some(&[t, f]) => (t, f),
            _ => return 0,
        };
        let u = self.cell.units();
        2 * (t * (f + u) * C::GATES * u) as u64
    }

    fn params(&self) -> Vec<&Param> {
        self.weights.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.weights.params_mut()
    }

    fn config(&self) -> Value {
        let mut c = config::write(self.cell.config());
        for part in [
            config::write(&self.weight_config),
            config::write(&self.options),
        ] {
            if let (Value::Object(m), Value::Object(o)) = (&mut c, part) {
                m.extend(o);
            }
        }
        c
    }

    fn reset_states(&mut self) {
        for s in &mut self.states {
            s.clear();
        }
    }

    fn runtime_state(&self) -> Value {
        let mut m = serde_json::Map::new();
        if self.options.stateful && !self.states[0].is_empty() {
            for (name, s) in C::STATES.iter().zip(&self.states) {
                m.insert((*name).into(), serde_json::json!(s));
            }
        }
        let r = self.drop.state();
        if !r.is_null() {
            m.insert("rng".into(), r);
        }
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    }

    fn set_runtime_state(&mut self, state: &Value) -> Result<()> {
        let class = C::CLASS;
        if state.get(C::STATES[0]).is_some() {
            let u = self.cell.units();
            let mut read = Vec::new();
            for name in C::STATES {
                let v: Vec<f32> =
                    serde_json::from_value(state.get(*name).cloned().unwrap_or_default())
                        .map_err(|e| Error::Config(format!("{class} state '{name}': {e}")))?;
                read.push(v);
            }
            let len = read[0].len();
            if len == 0 || len % u != 0 || read.iter().any(|v| v.len() != len) {
                return Err(Error::Config(format!(
                    "{class} state: {} have {:?} values; each must be the same positive multiple of units ({u})",
                    C::STATES.join(", "),
                    read.iter().map(Vec::len).collect::<Vec<_>>()
                )));
            }
            self.states = read;
        } else {
            self.reset_states();
        }
        if let Some(r) = state.get("rng") {
            self.drop.set_state(class, r)?;
        }
        Ok(())
    }
}
