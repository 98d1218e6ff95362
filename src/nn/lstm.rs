//! `LSTM`: Keras' long short-term memory layer with a hand-written, fused
//! forward pass and back-propagation through time.
//!
//! Layout (Keras'): kernel (F, 4u), recurrent_kernel (u, 4u), bias (4u), gate
//! blocks i, f, c (candidate), o along the last axis.
//!
//! Speed: the input projection `X·W + b` for all timesteps is one GEMM; each
//! step adds `h·U` with one GEMM over all four gates, then one fused pass
//! applies the gate activations and the cell update (compiled for AVX-512 /
//! AVX2, picked at run time). The backward pass computes `dZ` step by step and
//! then the weight gradients with whole-sequence GEMMs. Every buffer lives in
//! the layer and is reused across batches: nothing is allocated in the time loop.

use super::activation::{apply_loop, deriv_loop, simd_level, SimdLevel};
use super::rnn_common::{
    check_rate, gemm_nn_blk, gemm_nt_blk, gemm_tn_blk, mask_rows, simd_variants, RnnDropout,
};
use super::{Activation, Initializer, Layer, Param, Shape};
use crate::error::{Error, Result};
use crate::nn::gemm;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

/// A Keras-compatible LSTM layer.
///
/// ```
/// use lstmkit::nn::{LSTM, Activation};
/// let l = LSTM::new(50).activation(Activation::Relu).return_sequences(true);
/// assert_eq!(l.units, 50);
/// ```
pub struct LSTM {
    /// Hidden width u.
    pub units: usize,
    /// Activation of the candidate and of the cell output (tanh by default).
    pub activation: Activation,
    /// Activation of the i, f, o gates (Keras: any activation; sigmoid by default).
    pub recurrent_activation: Activation,
    /// Whether a bias is used.
    pub use_bias: bool,
    /// Initialise the forget-gate bias to 1.
    pub unit_forget_bias: bool,
    /// Kernel initialiser (glorot_uniform).
    pub kernel_initializer: Initializer,
    /// Recurrent kernel initialiser (orthogonal).
    pub recurrent_initializer: Initializer,
    /// Bias initialiser (zeros).
    pub bias_initializer: Initializer,
    /// Output the whole sequence (B, T, u) instead of the last state (B, u).
    pub return_sequences: bool,
    /// Also output the final h and c (three outputs).
    pub return_state: bool,
    /// Read the sequence backwards (outputs are in processing order, as in Keras).
    pub go_backwards: bool,
    /// Carry the final state of each sample into the next batch.
    pub stateful: bool,
    /// Penalty on the kernel.
    pub kernel_regularizer: Option<Regularizer>,
    /// Penalty on the recurrent kernel.
    pub recurrent_regularizer: Option<Regularizer>,
    /// Penalty on the bias.
    pub bias_regularizer: Option<Regularizer>,
    /// Fraction of the inputs dropped in training (one mask per sequence, Keras 3).
    pub dropout: f32,
    /// Fraction of the recurrent state dropped in training (one mask per sequence and gate).
    pub recurrent_dropout: f32,
    drop: RnnDropout,
    kernel: Param,
    recurrent: Param,
    bias: Param,
    f_in: usize,
    state_h: Vec<f32>,
    state_c: Vec<f32>,
    shards: Vec<Cache>,
    n_shards: usize,
    b: usize,
    t: usize,
    ut: Vec<f32>, // (4u, u) recurrent kernel transposed
    wt: Vec<f32>, // (4u, F) kernel transposed
}

/// Per-shard buffers: the batch is split into contiguous row blocks that run
/// on different threads; each block keeps its own caches and partial weight
/// gradients.
#[derive(Default)]
struct Cache {
    b: usize,
    t: usize,
    xs: Vec<f32>,    // (T, B, F) inputs in processing order
    gates: Vec<f32>, // (T, B, 4u) activated gates i, f, g, o
    zg: Vec<f32>,    // (T, B, u) candidate pre-activation
    zr: Vec<f32>, // (T, B, 3u) pre-activations of i, f, o (only for gate activations other than (hard) sigmoid)
    cs: Vec<f32>, // (T+1, B, u)
    acs: Vec<f32>, // (T, B, u) act(c)
    hs: Vec<f32>, // (T+1, B, u)
    dz: Vec<f32>, // (T, B, 4u)
    dh: Vec<f32>, // (B, u)
    dc: Vec<f32>, // (B, u)
    tmp: Vec<f32>, // (B, u)
    tmp2: Vec<f32>, // (B, u)
    dxs: Vec<f32>, // (T, B, F)
    dxs2: Vec<f32>, // (T, B, F)
    xin: Vec<f32>, // n_in × (T, B, F) inputs times their dropout masks
    hms: Vec<f32>, // 4 × (T, B, u) h_{t-1} times each gate's recurrent mask
    gw: Vec<f32>, // partial dL/dkernel
    gu: Vec<f32>, // partial dL/drecurrent_kernel
    gb: Vec<f32>, // partial dL/dbias
}

/// What a shard needs to know about the layer.
#[derive(Clone, Copy)]
struct Cfg {
    u: usize,
    f: usize,
    act: Activation,
    rec: Activation,
    go_backwards: bool,
    return_sequences: bool,
    level: SimdLevel,
}

/// Rows per shard below which splitting the batch over threads does not pay.
const MIN_SHARD_ROWS: usize = 16;

/// Writes the transpose of the (rows × cols) row-major `src` into `dst` (cols × rows).
fn transpose_into(src: &[f32], rows: usize, cols: usize, dst: &mut Vec<f32>) {
    dst.resize(rows * cols, 0.0);
    for r in 0..rows {
        for (c, v) in src[r * cols..(r + 1) * cols].iter().enumerate() {
            dst[c * rows + r] = *v;
        }
    }
}

impl Cache {
    /// Forward pass of `b` samples (`x`: their (b, T, F) rows) from state (h0, c0).
    /// Dropout masks in `d` cover exactly these `b` rows (dropout runs unsharded).
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &mut self,
        cfg: Cfg,
        d: &RnnDropout,
        w: &[f32],
        rk: &[f32],
        bias: Option<&[f32]>,
        x: &[f32],
        b: usize,
        t: usize,
        h0: Option<&[f32]>,
        c0: Option<&[f32]>,
    ) {
        let (u, f) = (cfg.u, cfg.f);
        let g4 = 4 * u;
        let bu = b * u;
        self.b = b;
        self.t = t;
        self.xs.resize(t * b * f, 0.0);
        self.gates.resize(t * b * g4, 0.0);
        self.zg.resize(t * bu, 0.0);
        let zr_len = if keeps_gate_inputs(cfg.rec) {
            3 * t * bu
        } else {
            0
        };
        self.zr.resize(zr_len, 0.0);
        self.cs.resize((t + 1) * bu, 0.0);
        self.acs.resize(t * bu, 0.0);
        self.hs.resize((t + 1) * bu, 0.0);
        // inputs to time-major, processing order
        for s in 0..t {
            let ts = if cfg.go_backwards { t - 1 - s } else { s };
            for bi in 0..b {
                let src = &x[(bi * t + ts) * f..(bi * t + ts + 1) * f];
                self.xs[(s * b + bi) * f..(s * b + bi + 1) * f].copy_from_slice(src);
            }
        }
        match h0 {
            Some(h) => self.hs[..bu].copy_from_slice(h),
            None => self.hs[..bu].fill(0.0),
        }
        match c0 {
            Some(c) => self.cs[..bu].copy_from_slice(c),
            None => self.cs[..bu].fill(0.0),
        }
        // input projection for all steps: gates = xs·W + b
        let beta = match bias {
            Some(bv) => {
                for row in self.gates.chunks_exact_mut(g4) {
                    row.copy_from_slice(bv);
                }
                1.0
            }
            None => 0.0,
        };
        let tbf = t * b * f;
        if !d.in_on {
            gemm::gemm_nn(t * b, f, g4, &self.xs, w, beta, &mut self.gates);
        } else {
            self.xin.resize(d.n_in * tbf, 0.0);
            for k in 0..d.n_in {
                mask_rows(
                    &self.xs,
                    &d.in_mask[k * b * f..(k + 1) * b * f],
                    b,
                    f,
                    &mut self.xin[k * tbf..(k + 1) * tbf],
                );
            }
            if d.n_in == 1 {
                gemm::gemm_nn(t * b, f, g4, &self.xin, w, beta, &mut self.gates);
            } else {
                for k in 0..4 {
                    let xk = &self.xin[k * tbf..(k + 1) * tbf];
                    gemm_nn_blk(t * b, f, u, g4, k * u, xk, w, beta, &mut self.gates);
                }
            }
        }
        if d.rec_on {
            self.hms.resize(4 * t * bu, 0.0);
        }
        for s in 0..t {
            let (hprev, hnext) = self.hs.split_at_mut((s + 1) * bu);
            let hprev = &hprev[s * bu..];
            let z = &mut self.gates[s * b * g4..(s + 1) * b * g4];
            if !d.rec_on {
                gemm::gemm_nn(b, u, g4, hprev, rk, 1.0, z);
            } else {
                for k in 0..4 {
                    let hm = &mut self.hms[(k * t + s) * bu..(k * t + s + 1) * bu];
                    let m = &d.rec_mask[k * bu..(k + 1) * bu];
                    for j in 0..bu {
                        hm[j] = hprev[j] * m[j];
                    }
                    gemm_nn_blk(b, u, u, g4, k * u, hm, rk, 1.0, z);
                }
            }
            let (cprev, cnext) = self.cs.split_at_mut((s + 1) * bu);
            step_fwd(
                cfg.level,
                u,
                cfg.act,
                cfg.rec,
                z,
                &mut self.zg[s * bu..(s + 1) * bu],
                if zr_len > 0 {
                    &mut self.zr[3 * s * bu..3 * (s + 1) * bu]
                } else {
                    &mut []
                },
                &cprev[s * bu..],
                &mut cnext[..bu],
                &mut self.acs[s * bu..(s + 1) * bu],
                &mut hnext[..bu],
            );
        }
    }

    /// Backward pass: `gy` holds this shard's rows of dL/d(output 0); `gh`, `gc`
    /// the gradients of the returned states. `rk`/`ut` are the recurrent kernel
    /// and its transpose, `w`/`wt` the kernel and its transpose (`wt` only when
    /// `need_x`). Leaves the partial weight gradients in gw/gu/gb, dL/dx
    /// (time-major) in dxs when `need_x`, and dL/dh0, dL/dc0 in dh, dc.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        cfg: Cfg,
        d: &RnnDropout,
        rk: &[f32],
        ut: &[f32],
        w: &[f32],
        wt: &[f32],
        has_bias: bool,
        gy: &[f32],
        gh: Option<&[f32]>,
        gc: Option<&[f32]>,
        need_h0: bool,
        need_x: bool,
    ) {
        let (u, f) = (cfg.u, cfg.f);
        let g4 = 4 * u;
        let (b, t) = (self.b, self.t);
        let bu = b * u;
        self.dz.resize(t * b * g4, 0.0);
        self.dh.resize(bu, 0.0);
        self.dc.resize(bu, 0.0);
        self.tmp.resize(bu, 0.0);
        self.tmp2.resize(bu, 0.0);
        match gh {
            Some(g) => self.dh.copy_from_slice(g),
            None => self.dh.fill(0.0),
        }
        match gc {
            Some(g) => self.dc.copy_from_slice(g),
            None => self.dc.fill(0.0),
        }
        for s in (0..t).rev() {
            // add the output gradient for this step
            if cfg.return_sequences {
                for bi in 0..b {
                    let src = &gy[(bi * t + s) * u..(bi * t + s + 1) * u];
                    for (dd, g) in self.dh[bi * u..(bi + 1) * u].iter_mut().zip(src) {
                        *dd += g;
                    }
                }
            } else if s == t - 1 {
                for (dd, g) in self.dh.iter_mut().zip(gy) {
                    *dd += g;
                }
            }
            let dz = &mut self.dz[s * b * g4..(s + 1) * b * g4];
            step_bwd(
                cfg.level,
                u,
                cfg.act,
                cfg.rec,
                &self.gates[s * b * g4..(s + 1) * b * g4],
                &self.zg[s * bu..(s + 1) * bu],
                if self.zr.is_empty() {
                    &[]
                } else {
                    &self.zr[3 * s * bu..3 * (s + 1) * bu]
                },
                &self.cs[(s + 1) * bu..(s + 2) * bu],
                &self.acs[s * bu..(s + 1) * bu],
                &self.cs[s * bu..(s + 1) * bu],
                &self.dh,
                &mut self.dc,
                &mut self.tmp,
                dz,
            );
            if s > 0 || need_h0 {
                // dh_{t-1} = dz_t · Uᵀ (per gate, times its mask, with recurrent dropout)
                if !d.rec_on {
                    gemm::gemm_nn(b, g4, u, dz, ut, 0.0, &mut self.dh);
                } else {
                    self.dh.fill(0.0);
                    for k in 0..4 {
                        gemm_nt_blk(b, u, u, g4, k * u, dz, rk, 0.0, &mut self.tmp2);
                        let m = &d.rec_mask[k * bu..(k + 1) * bu];
                        for j in 0..bu {
                            self.dh[j] += self.tmp2[j] * m[j];
                        }
                    }
                }
            }
        }
        // partial weight gradients over the whole sequence
        let tbu = t * bu;
        self.gu.resize(u * g4, 0.0);
        self.gw.resize(f * g4, 0.0);
        if !d.rec_on {
            gemm::gemm_tn(u, t * b, g4, &self.hs[..tbu], &self.dz, 0.0, &mut self.gu);
        } else {
            self.gu.fill(0.0);
            for k in 0..4 {
                let hm = &self.hms[k * tbu..(k + 1) * tbu];
                gemm_tn_blk(u, t * b, u, g4, k * u, hm, &self.dz, &mut self.gu);
            }
        }
        let tbf = t * b * f;
        if !d.in_on {
            gemm::gemm_tn(f, t * b, g4, &self.xs, &self.dz, 0.0, &mut self.gw);
        } else if d.n_in == 1 {
            gemm::gemm_tn(f, t * b, g4, &self.xin[..tbf], &self.dz, 0.0, &mut self.gw);
        } else {
            self.gw.fill(0.0);
            for k in 0..4 {
                let xk = &self.xin[k * tbf..(k + 1) * tbf];
                gemm_tn_blk(f, t * b, u, g4, k * u, xk, &self.dz, &mut self.gw);
            }
        }
        if has_bias {
            self.gb.clear();
            self.gb.resize(g4, 0.0);
            for row in self.dz.chunks_exact(g4) {
                for (g, dd) in self.gb.iter_mut().zip(row) {
                    *g += dd;
                }
            }
        }
        if need_x {
            self.dxs.resize(tbf, 0.0);
            if !d.in_on {
                gemm::gemm_nn(t * b, g4, f, &self.dz, wt, 0.0, &mut self.dxs);
            } else if d.n_in == 1 {
                self.dxs2.resize(tbf, 0.0);
                gemm::gemm_nn(t * b, g4, f, &self.dz, wt, 0.0, &mut self.dxs2);
                mask_rows(&self.dxs2, &d.in_mask[..b * f], b, f, &mut self.dxs);
            } else {
                self.dxs.fill(0.0);
                self.dxs2.resize(tbf, 0.0);
                let bf = b * f;
                for k in 0..4 {
                    gemm_nt_blk(t * b, u, f, g4, k * u, &self.dz, w, 0.0, &mut self.dxs2);
                    let m = &d.in_mask[k * bf..(k + 1) * bf];
                    for (o, x) in self
                        .dxs
                        .chunks_exact_mut(bf)
                        .zip(self.dxs2.chunks_exact(bf))
                    {
                        for j in 0..bf {
                            o[j] += x[j] * m[j];
                        }
                    }
                }
            }
        }
    }
}

impl LSTM {
    /// An LSTM with `units` hidden units and Keras' defaults.
    pub fn new(units: usize) -> Self {
        LSTM {
            units,
            activation: Activation::Tanh,
            recurrent_activation: Activation::Sigmoid,
            use_bias: true,
            unit_forget_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            recurrent_initializer: Initializer::Orthogonal,
            bias_initializer: Initializer::Zeros,
            return_sequences: false,
            return_state: false,
            go_backwards: false,
            stateful: false,
            kernel_regularizer: None,
            recurrent_regularizer: None,
            bias_regularizer: None,
            dropout: 0.0,
            recurrent_dropout: 0.0,
            drop: RnnDropout::default(),
            kernel: Param::default(),
            recurrent: Param::default(),
            bias: Param::default(),
            f_in: 0,
            state_h: Vec::new(),
            state_c: Vec::new(),
            shards: Vec::new(),
            n_shards: 1,
            b: 0,
            t: 0,
            ut: Vec::new(),
            wt: Vec::new(),
        }
    }
    /// Sets the cell activation.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// Sets the gate activation (any activation; Keras defaults to sigmoid).
    pub fn recurrent_activation(mut self, a: Activation) -> Self {
        self.recurrent_activation = a;
        self
    }
    /// Sets `return_sequences`.
    pub fn return_sequences(mut self, v: bool) -> Self {
        self.return_sequences = v;
        self
    }
    /// Sets `return_state`.
    pub fn return_state(mut self, v: bool) -> Self {
        self.return_state = v;
        self
    }
    /// Sets `go_backwards`.
    pub fn go_backwards(mut self, v: bool) -> Self {
        self.go_backwards = v;
        self
    }
    /// Sets `use_bias`.
    pub fn use_bias(mut self, v: bool) -> Self {
        self.use_bias = v;
        self
    }
    /// Sets `stateful`.
    pub fn stateful(mut self, v: bool) -> Self {
        self.stateful = v;
        self
    }
    /// Sets `unit_forget_bias`.
    pub fn unit_forget_bias(mut self, v: bool) -> Self {
        self.unit_forget_bias = v;
        self
    }
    /// Sets the kernel regulariser.
    pub fn kernel_regularizer(mut self, r: Regularizer) -> Self {
        self.kernel_regularizer = Some(r);
        self
    }
    /// Sets the recurrent kernel regulariser.
    pub fn recurrent_regularizer(mut self, r: Regularizer) -> Self {
        self.recurrent_regularizer = Some(r);
        self
    }
    /// Sets the bias regulariser.
    pub fn bias_regularizer(mut self, r: Regularizer) -> Self {
        self.bias_regularizer = Some(r);
        self
    }

    /// Sets the input dropout rate (training only; Keras' time-constant masks).
    pub fn dropout(mut self, rate: f32) -> Self {
        self.dropout = rate;
        self
    }
    /// Sets the recurrent dropout rate (training only; one mask per gate, as Keras 3).
    pub fn recurrent_dropout(mut self, rate: f32) -> Self {
        self.recurrent_dropout = rate;
        self
    }
    /// Sets the kernel initialiser.
    pub fn kernel_initializer(mut self, i: Initializer) -> Self {
        self.kernel_initializer = i;
        self
    }
    /// Sets the recurrent kernel initialiser.
    pub fn recurrent_initializer(mut self, i: Initializer) -> Self {
        self.recurrent_initializer = i;
        self
    }
    /// Sets the bias initialiser.
    pub fn bias_initializer(mut self, i: Initializer) -> Self {
        self.bias_initializer = i;
        self
    }

    /// A fresh layer with the same configuration and no weights (used by `Bidirectional`).
    pub fn clone_config(&self) -> Self {
        let mut l = LSTM::new(self.units);
        l.activation = self.activation;
        l.recurrent_activation = self.recurrent_activation;
        l.use_bias = self.use_bias;
        l.unit_forget_bias = self.unit_forget_bias;
        l.kernel_initializer = self.kernel_initializer;
        l.recurrent_initializer = self.recurrent_initializer;
        l.bias_initializer = self.bias_initializer;
        l.return_sequences = self.return_sequences;
        l.return_state = self.return_state;
        l.go_backwards = self.go_backwards;
        l.stateful = self.stateful;
        l.kernel_regularizer = self.kernel_regularizer;
        l.recurrent_regularizer = self.recurrent_regularizer;
        l.bias_regularizer = self.bias_regularizer;
        l.dropout = self.dropout;
        l.recurrent_dropout = self.recurrent_dropout;
        l
    }

    /// The stored state (h, c) of a stateful layer, each (B·u) long; empty before the first call.
    pub fn states(&self) -> (&[f32], &[f32]) {
        (&self.state_h, &self.state_c)
    }

    fn cfg(&self) -> Cfg {
        Cfg {
            u: self.units,
            f: self.f_in,
            act: self.activation,
            rec: self.recurrent_activation,
            go_backwards: self.go_backwards,
            return_sequences: self.return_sequences,
            level: simd_level(),
        }
    }
}

/// Whether the backward pass needs the gates' pre-activations: the derivative
/// of sigmoid and hard_sigmoid follows from their output, other gate
/// activations (Keras accepts any) need their input.
fn keeps_gate_inputs(rec: Activation) -> bool {
    !matches!(
        rec,
        Activation::Sigmoid | Activation::HardSigmoid | Activation::HardSigmoidKeras2
    )
}

// ---------------------------------------------------------------------------
// Fused kernels (inlined into SIMD-compiled wrappers)
// ---------------------------------------------------------------------------

/// One forward step for all rows: `z` (B×4u) holds the pre-activations on entry
/// and the activated gates on exit.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step_fwd_impl(
    u: usize,
    act: Activation,
    rec: Activation,
    z: &mut [f32],
    zg: &mut [f32],
    zr: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    ac: &mut [f32],
    h: &mut [f32],
) {
    for (b, row) in z.chunks_exact_mut(4 * u).enumerate() {
        let r = b * u..(b + 1) * u;
        zg[r.clone()].copy_from_slice(&row[2 * u..3 * u]);
        if !zr.is_empty() {
            let zb = &mut zr[3 * b * u..3 * (b + 1) * u];
            zb[..2 * u].copy_from_slice(&row[..2 * u]);
            zb[2 * u..].copy_from_slice(&row[3 * u..]);
        }
        apply_loop(rec, &mut row[..2 * u]);
        apply_loop(act, &mut row[2 * u..3 * u]);
        apply_loop(rec, &mut row[3 * u..]);
        let (i, rest) = row.split_at(u);
        let (f, rest) = rest.split_at(u);
        let (g, o) = rest.split_at(u);
        let (cp, cc, a) = (&c_prev[r.clone()], &mut c[r.clone()], &mut ac[r.clone()]);
        for j in 0..u {
            cc[j] = f[j] * cp[j] + i[j] * g[j];
        }
        a.copy_from_slice(cc);
        apply_loop(act, a);
        let hh = &mut h[r];
        for j in 0..u {
            hh[j] = o[j] * a[j];
        }
    }
}

/// One backward step for all rows. On entry `dh` holds dL/dh_t, `dc` dL/dc_t
/// from the future; on exit `dz` holds dL/dz_t and `dc` dL/dc_{t-1}.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step_bwd_impl(
    u: usize,
    act: Activation,
    rec: Activation,
    gates: &[f32],
    zg: &[f32],
    zr: &[f32],
    c: &[f32],
    ac: &[f32],
    c_prev: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    tmp: &mut [f32],
    dz: &mut [f32],
) {
    // tmp = act'(c)
    tmp.fill(1.0);
    deriv_loop(act, c, ac, tmp);
    for (b, (grow, dzrow)) in gates
        .chunks_exact(4 * u)
        .zip(dz.chunks_exact_mut(4 * u))
        .enumerate()
    {
        let r = b * u..(b + 1) * u;
        let (i, rest) = grow.split_at(u);
        let (f, rest) = rest.split_at(u);
        let (g, o) = rest.split_at(u);
        let (dzi, rest) = dzrow.split_at_mut(u);
        let (dzf, rest) = rest.split_at_mut(u);
        let (dzg, dzo) = rest.split_at_mut(u);
        let (dhr, dcr, tr, acr, cpr) = (
            &dh[r.clone()],
            &mut dc[r.clone()],
            &tmp[r.clone()],
            &ac[r.clone()],
            &c_prev[r.clone()],
        );
        for j in 0..u {
            let d = dcr[j] + dhr[j] * o[j] * tr[j];
            dzo[j] = dhr[j] * acr[j];
            dzi[j] = d * g[j];
            dzg[j] = d * i[j];
            dzf[j] = d * cpr[j];
            dcr[j] = d * f[j];
        }
        // gate derivatives
        match rec {
            Activation::HardSigmoid | Activation::HardSigmoidKeras2 => {
                // y strictly inside (0, 1) ⇔ x inside (−3, 3) (Keras 2: (−2.5, 2.5))
                let slope = if rec == Activation::HardSigmoid {
                    1.0 / 6.0
                } else {
                    0.2
                };
                for j in 0..u {
                    let s = |y: f32| if y > 0.0 && y < 1.0 { slope } else { 0.0 };
                    dzi[j] *= s(i[j]);
                    dzf[j] *= s(f[j]);
                    dzo[j] *= s(o[j]);
                }
            }
            Activation::Sigmoid => {
                for j in 0..u {
                    dzi[j] *= i[j] * (1.0 - i[j]);
                    dzf[j] *= f[j] * (1.0 - f[j]);
                    dzo[j] *= o[j] * (1.0 - o[j]);
                }
            }
            other => {
                // any other gate activation: f'(x) from the kept pre-activations
                let zb = &zr[3 * b * u..3 * (b + 1) * u];
                deriv_loop(other, &zb[..u], i, dzi);
                deriv_loop(other, &zb[u..2 * u], f, dzf);
                deriv_loop(other, &zb[2 * u..], o, dzo);
            }
        }
        deriv_loop(act, &zg[r], g, dzg);
    }
}

simd_variants!(step_fwd_impl, step_fwd_avx512, step_fwd_avx2, step_fwd,
    (u: usize, act: Activation, rec: Activation, z: &mut [f32], zg: &mut [f32], zr: &mut [f32], c_prev: &[f32], c: &mut [f32], ac: &mut [f32], h: &mut [f32]));
simd_variants!(step_bwd_impl, step_bwd_avx512, step_bwd_avx2, step_bwd,
    (u: usize, act: Activation, rec: Activation, gates: &[f32], zg: &[f32], zr: &[f32], c: &[f32], ac: &[f32], c_prev: &[f32], dh: &[f32], dc: &mut [f32], tmp: &mut [f32], dz: &mut [f32]));

impl Layer for LSTM {
    fn class_name(&self) -> &'static str {
        "LSTM"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        check_rate("LSTM", "dropout", self.dropout)?;
        check_rate("LSTM", "recurrent_dropout", self.recurrent_dropout)?;
        if input_shapes.is_empty() || (input_shapes.len() != 1 && input_shapes.len() != 3) {
            return Err(Error::Shape(format!(
                "LSTM takes one input, or three (x, initial h, initial c); got {}",
                input_shapes.len()
            )));
        }
        let s = &input_shapes[0];
        if s.len() != 2 {
            return Err(Error::Shape(format!(
                "LSTM expects a 3-D input (batch, timesteps, features) but receives {}{}",
                super::fmt_shape(s),
                if s.len() == 1 {
                    ": the previous layer returns only its last step; set return_sequences=true on it"
                } else {
                    ""
                }
            )));
        }
        let u = self.units;
        if u == 0 {
            return Err(Error::Config("LSTM units must be > 0".into()));
        }
        let f = s[1];
        if f == 0 {
            return Err(Error::Shape("LSTM needs a known feature width".into()));
        }
        if input_shapes.len() == 3 {
            for st in &input_shapes[1..] {
                if st != &vec![u] {
                    return Err(Error::Shape(format!(
                        "LSTM initial state must be (None, {u}), got {}",
                        super::fmt_shape(st)
                    )));
                }
            }
        }
        if self.kernel.value.shape != [f, 4 * u] {
            self.kernel = Param::new(
                "kernel",
                &[f, 4 * u],
                self.kernel_initializer.fill(f, 4 * u, rng),
            );
        }
        if self.recurrent.value.shape != [u, 4 * u] {
            self.recurrent = Param::new(
                "recurrent_kernel",
                &[u, 4 * u],
                self.recurrent_initializer.fill(u, 4 * u, rng),
            );
        }
        self.kernel.regularizer = self.kernel_regularizer;
        self.recurrent.regularizer = self.recurrent_regularizer;
        if self.use_bias {
            if self.bias.value.shape != [4 * u] {
                let mut b = self.bias_initializer.fill(1, 4 * u, rng);
                if self.unit_forget_bias {
                    b[u..2 * u].fill(1.0);
                }
                self.bias = Param::new("bias", &[4 * u], b);
            }
            self.bias.regularizer = self.bias_regularizer;
        }
        self.f_in = f;
        self.drop.rate = self.dropout;
        self.drop.rec_rate = self.recurrent_dropout;
        self.drop.rng = rng.fork();
        let t = s[0];
        let mut outs = vec![if self.return_sequences {
            vec![t, u]
        } else {
            vec![u]
        }];
        if self.return_state {
            outs.push(vec![u]);
            outs.push(vec![u]);
        }
        Ok(outs)
    }

    fn num_outputs(&self) -> usize {
        if self.return_state {
            3
        } else {
            1
        }
    }

    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        if x.ndim() != 3 || x.shape[2] != self.f_in {
            return Err(Error::Shape(format!(
                "LSTM expects input (batch, timesteps, {}), got {:?}",
                self.f_in, x.shape
            )));
        }
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let u = self.units;
        if t == 0 {
            return Err(Error::Shape("LSTM input has 0 timesteps".into()));
        }
        let bu = b * u;
        // initial state
        let (h0, c0): (Option<&[f32]>, Option<&[f32]>) = if inputs.len() == 3 {
            if inputs[1].len() != bu || inputs[2].len() != bu {
                return Err(Error::Shape(format!(
                    "LSTM initial state must be ({b}, {u}), got {:?} and {:?}",
                    inputs[1].shape, inputs[2].shape
                )));
            }
            (Some(&inputs[1].data), Some(&inputs[2].data))
        } else if self.stateful && self.state_h.len() == bu {
            (Some(&self.state_h), Some(&self.state_c))
        } else if self.stateful && !self.state_h.is_empty() {
            return Err(Error::Shape(format!(
                "stateful LSTM was called with batch size {} before and {b} now; stateful layers need a fixed batch size (call reset_states() to start over)",
                self.state_h.len() / u
            )));
        } else {
            (None, None)
        };
        self.drop.draw(training, 4, b, f, u);
        let cfg = self.cfg();
        // split the batch over threads (dropout masks are drawn for the whole batch: unsharded)
        let n = if self.drop.in_on || self.drop.rec_on {
            1
        } else {
            (b / MIN_SHARD_ROWS).clamp(1, rayon::current_num_threads().max(1))
        };
        if self.shards.len() < n {
            self.shards.resize_with(n, Cache::default);
        }
        self.n_shards = n;
        self.b = b;
        self.t = t;
        let (w, rk) = (&self.kernel.value.data, &self.recurrent.value.data);
        let bias = self.use_bias.then_some(&self.bias.value.data[..]);
        let d = &self.drop;
        let run = |k: usize, c: &mut Cache| {
            let (r0, r1) = (k * b / n, (k + 1) * b / n);
            c.forward(
                cfg,
                d,
                w,
                rk,
                bias,
                &x.data[r0 * t * f..r1 * t * f],
                r1 - r0,
                t,
                h0.map(|h| &h[r0 * u..r1 * u]),
                c0.map(|c| &c[r0 * u..r1 * u]),
            );
        };
        if n == 1 {
            run(0, &mut self.shards[0]);
        } else {
            use rayon::prelude::*;
            self.shards[..n]
                .par_iter_mut()
                .enumerate()
                .for_each(|(k, c)| run(k, c));
        }
        // gather outputs
        if self.return_sequences {
            outputs[0].resize_uninit(&[b, t, u]);
        } else {
            outputs[0].resize_uninit(&[b, u]);
        }
        if self.return_state {
            outputs[1].resize_uninit(&[b, u]);
            outputs[2].resize_uninit(&[b, u]);
        }
        if self.stateful {
            self.state_h.resize(bu, 0.0);
            self.state_c.resize(bu, 0.0);
        }
        for k in 0..n {
            let c = &self.shards[k];
            let r0 = k * b / n;
            let bs = c.b;
            let (hl, cl) = (&c.hs[t * bs * u..], &c.cs[t * bs * u..]);
            if self.return_sequences {
                let y = &mut outputs[0].data;
                for s in 0..t {
                    for bi in 0..bs {
                        let src = &c.hs[(s + 1) * bs * u + bi * u..(s + 1) * bs * u + (bi + 1) * u];
                        y[((r0 + bi) * t + s) * u..((r0 + bi) * t + s + 1) * u]
                            .copy_from_slice(src);
                    }
                }
            } else {
                outputs[0].data[r0 * u..(r0 + bs) * u].copy_from_slice(hl);
            }
            if self.return_state {
                outputs[1].data[r0 * u..(r0 + bs) * u].copy_from_slice(hl);
                outputs[2].data[r0 * u..(r0 + bs) * u].copy_from_slice(cl);
            }
            if self.stateful {
                self.state_h[r0 * u..(r0 + bs) * u].copy_from_slice(hl);
                self.state_c[r0 * u..(r0 + bs) * u].copy_from_slice(cl);
            }
        }
        Ok(())
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [Tensor],
    ) -> Result<()> {
        let u = self.units;
        let g4 = 4 * u;
        let f = self.f_in;
        let (b, t, n) = (self.b, self.t, self.n_shards);
        let bu = b * u;
        let cfg = self.cfg();
        if !self.drop.rec_on {
            transpose_into(&self.recurrent.value.data, u, g4, &mut self.ut);
        }
        let need_x = grad_inputs[0].len() == t * b * f;
        if need_x {
            transpose_into(&self.kernel.value.data, f, g4, &mut self.wt);
        }
        let need_h0 = inputs.len() == 3 && grad_inputs[1].len() == bu;
        let need_c0 = inputs.len() == 3 && grad_inputs[2].len() == bu;
        let gy = &grad_outputs[0].data;
        let per = if self.return_sequences { t * u } else { u };
        let (gh, gc) = if self.return_state {
            (
                Some(&grad_outputs[1].data[..]),
                Some(&grad_outputs[2].data[..]),
            )
        } else {
            (None, None)
        };
        let (rk, ut) = (&self.recurrent.value.data[..], &self.ut[..]);
        let (w, wt) = (&self.kernel.value.data[..], &self.wt[..]);
        let (d, has_bias) = (&self.drop, self.use_bias);
        let run = |k: usize, c: &mut Cache| {
            let (r0, r1) = (k * b / n, (k + 1) * b / n);
            c.backward(
                cfg,
                d,
                rk,
                ut,
                w,
                wt,
                has_bias,
                &gy[r0 * per..r1 * per],
                gh.map(|g| &g[r0 * u..r1 * u]),
                gc.map(|g| &g[r0 * u..r1 * u]),
                need_h0,
                need_x,
            );
        };
        if n == 1 {
            run(0, &mut self.shards[0]);
        } else {
            use rayon::prelude::*;
            self.shards[..n]
                .par_iter_mut()
                .enumerate()
                .for_each(|(k, c)| run(k, c));
        }
        for k in 0..n {
            let c = &self.shards[k];
            let (r0, bs) = (k * b / n, c.b);
            for (g, p) in self.recurrent.grad.data.iter_mut().zip(&c.gu) {
                *g += p;
            }
            for (g, p) in self.kernel.grad.data.iter_mut().zip(&c.gw) {
                *g += p;
            }
            if self.use_bias {
                for (g, p) in self.bias.grad.data.iter_mut().zip(&c.gb) {
                    *g += p;
                }
            }
            if need_x {
                let gx = &mut grad_inputs[0].data;
                for s in 0..t {
                    let ts = if self.go_backwards { t - 1 - s } else { s };
                    for bi in 0..bs {
                        let dst = ((r0 + bi) * t + ts) * f;
                        gx[dst..dst + f]
                            .copy_from_slice(&c.dxs[(s * bs + bi) * f..(s * bs + bi + 1) * f]);
                    }
                }
            }
            if need_h0 {
                grad_inputs[1].data[r0 * u..(r0 + bs) * u].copy_from_slice(&c.dh);
            }
            if need_c0 {
                grad_inputs[2].data[r0 * u..(r0 + bs) * u].copy_from_slice(&c.dc);
            }
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        let mut v = vec![&self.kernel, &self.recurrent];
        if self.use_bias {
            v.push(&self.bias);
        }
        v
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut v = vec![&mut self.kernel, &mut self.recurrent];
        if self.use_bias {
            v.push(&mut self.bias);
        }
        v
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "units": self.units,
            "activation": self.activation.name(),
            "recurrent_activation": self.recurrent_activation.name(),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_initializer": self.kernel_initializer.name(),
            "recurrent_initializer": self.recurrent_initializer.name(),
            "bias_initializer": self.bias_initializer.name(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "kernel_regularizer": self.kernel_regularizer.map(|r| r.to_keras()),
            "recurrent_regularizer": self.recurrent_regularizer.map(|r| r.to_keras()),
            "bias_regularizer": self.bias_regularizer.map(|r| r.to_keras()),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": serde_json::Value::Null,
        })
    }

    fn reset_states(&mut self) {
        self.state_h.clear();
        self.state_c.clear();
    }

    fn runtime_state(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        if self.stateful && !self.state_h.is_empty() {
            m.insert("h".into(), serde_json::json!(self.state_h));
            m.insert("c".into(), serde_json::json!(self.state_c));
        }
        let r = self.drop.state();
        if !r.is_null() {
            m.insert("rng".into(), r);
        }
        if m.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::Value::Object(m)
        }
    }

    fn set_runtime_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let read = |k: &str| -> Result<Vec<f32>> {
            serde_json::from_value(state.get(k).cloned().unwrap_or_default())
                .map_err(|e| Error::Config(format!("LSTM state '{k}': {e}")))
        };
        if state.get("h").is_some() {
            let (h, c) = (read("h")?, read("c")?);
            let u = self.units;
            if h.len() != c.len() || h.is_empty() || h.len() % u != 0 {
                return Err(Error::Config(format!(
                    "LSTM state: h has {} and c {} values; both must be a positive multiple of units ({u})",
                    h.len(),
                    c.len()
                )));
            }
            self.state_h = h;
            self.state_c = c;
        } else {
            self.reset_states();
        }
        if let Some(r) = state.get("rng") {
            self.drop.set_state("LSTM", r)?;
        }
        Ok(())
    }
}
