//! `LSTM`: Keras' long short-term memory cell with a hand-written, fused
//! forward pass and back-propagation through time; the sequencing around it
//! (states, dropout masks, threads, outputs) is the recurrent base
//! ([`Rnn`](super::Rnn)).
//!
//! Layout (Keras'): kernel (F, 4u), recurrent_kernel (u, 4u), bias (4u), gate
//! blocks i, f, c (candidate), o along the last axis.
//!
//! Speed: the input projection `X·W + b` for all timesteps is one GEMM; each
//! step adds `h·U` with one GEMM over all four gates, then one fused pass
//! applies the gate activations and the cell update (compiled for AVX-512 /
//! AVX2, picked at run time). The backward pass computes `dZ` step by step and
//! then the weight gradients with whole-sequence GEMMs. Every buffer lives in
//! the shard and is reused across batches: nothing is allocated in the time loop.

use serde::{Deserialize, Serialize};

use super::base::{Cell, Pass, Rnn, Seq, Upstream};
use super::common::{
    add_col_sums, cell_items, gemm_nn_blk, gemm_nt_blk, gemm_tn_blk, input_grad, input_projection,
    kernel_grad, simd_variants, RnnDropout,
};
use super::weights::Weights;
use crate::nn::activation::{apply_loop, deriv_loop, SimdLevel};
use crate::nn::config::{self};
use crate::nn::gemm;
use crate::nn::Activation;

/// A Keras-compatible LSTM layer: the recurrent base around an [`LstmCell`].
///
/// ```
/// use lstmkit::nn::{LSTM, Activation};
/// let l = LSTM::new(50).activation(Activation::Relu).return_sequences(true);
/// assert_eq!(l.cell.config.units, 50);
/// assert!(l.options.return_sequences);
/// ```
pub type LSTM = Rnn<LstmCell>;

/// `keras.layers.LSTM`'s cell options, with Keras' names and defaults (the
/// base's options are [`RnnOptions`](super::RnnOptions)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmConfig {
    /// Hidden width u (≥ 1).
    #[serde(deserialize_with = "config::usize_lenient")]
    pub units: usize,
    /// Activation of the candidate and of the cell output.
    #[serde(default = "config::tanh")]
    pub activation: Activation,
    /// Activation of the i, f, o gates (Keras: any activation).
    #[serde(default = "config::sigmoid")]
    pub recurrent_activation: Activation,
    /// Initialise the forget-gate bias to 1.
    #[serde(default = "config::yes")]
    pub unit_forget_bias: bool,
}

/// The LSTM cell: its options and weights.
pub struct LstmCell {
    /// The options.
    pub config: LstmConfig,
    ut: Vec<f32>, // (4u, u) recurrent kernel transposed
    wt: Vec<f32>, // (4u, F) kernel transposed
}

/// Per-shard buffers: the batch is split into contiguous row blocks that run
/// on different threads; each block keeps its own caches and partial weight
/// gradients.
#[derive(Default)]
pub struct Cache {
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
        let dims = (t, b, f, u, 4);
        input_projection(d, dims, &self.xs, w, beta, &mut self.xin, &mut self.gates);
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
        if !d.rec_on {
            gemm::gemm_tn(u, t * b, g4, &self.hs[..tbu], &self.dz, 0.0, &mut self.gu);
        } else {
            self.gu.fill(0.0);
            for k in 0..4 {
                let hm = &self.hms[k * tbu..(k + 1) * tbu];
                gemm_tn_blk(u, t * b, u, g4, k * u, hm, &self.dz, &mut self.gu);
            }
        }
        let dims = (t, b, f, u, 4);
        kernel_grad(d, dims, &self.xs, &self.xin, &self.dz, &mut self.gw);
        if has_bias {
            self.gb.clear();
            self.gb.resize(g4, 0.0);
            add_col_sums(&mut self.gb, &self.dz);
        }
        if need_x {
            let wt = (!d.in_on || d.n_in == 1).then_some(wt);
            input_grad(d, dims, &self.dz, w, wt, &mut self.dxs2, &mut self.dxs);
        }
    }
}

impl LSTM {
    setters! { cell.config =>
        /// Sets the cell activation.
        activation: Activation,
        /// Sets the gate activation (any activation; Keras defaults to sigmoid).
        recurrent_activation: Activation,
        /// Sets `unit_forget_bias`.
        unit_forget_bias: bool,
    }
}

impl LstmCell {
    fn cfg(&self, s: &Seq) -> Cfg {
        Cfg {
            u: self.config.units,
            f: s.f,
            act: self.config.activation,
            rec: self.config.recurrent_activation,
            go_backwards: s.go_backwards,
            return_sequences: s.return_sequences,
            level: s.level,
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

impl Cell for LstmCell {
    cell_items!(LstmConfig, "LSTM", "lstm", states &["h", "c"], gates 4);

    fn from_config(config: LstmConfig) -> Self {
        LstmCell {
            config,
            ut: Vec::new(),
            wt: Vec::new(),
        }
    }

    fn init_bias(&self, bias: &mut [f32]) {
        let u = self.config.units;
        if self.config.unit_forget_bias {
            bias[u..2 * u].fill(1.0);
        }
    }

    fn forward(&self, p: &Pass, sh: &mut Cache, x: &[f32], init: &[Option<&[f32]>]) {
        let (w, s, d) = (p.w, &p.s, p.d);
        sh.forward(
            self.cfg(s),
            d,
            &w.kernel.value.data,
            &w.recurrent.value.data,
            w.bias(),
            x,
            s.b,
            s.t,
            init[0],
            init[1],
        );
    }

    fn final_state(sh: &Cache, k: usize, bu: usize) -> &[f32] {
        let from = sh.t * bu;
        if k == 0 {
            &sh.hs[from..from + bu]
        } else {
            &sh.cs[from..from + bu]
        }
    }

    fn prepare_backward(&mut self, w: &Weights, need_x: bool, d: &RnnDropout) {
        let (u, g4) = (self.config.units, 4 * self.config.units);
        if !d.rec_on {
            transpose_into(&w.recurrent.value.data, u, g4, &mut self.ut);
        }
        if need_x {
            let f = w.kernel.value.shape[0];
            transpose_into(&w.kernel.value.data, f, g4, &mut self.wt);
        }
    }

    fn backward(&self, p: &Pass, sh: &mut Cache, g: &Upstream) {
        let (w, d) = (p.w, p.d);
        sh.backward(
            self.cfg(&p.s),
            d,
            &w.recurrent.value.data,
            &self.ut,
            &w.kernel.value.data,
            &self.wt,
            w.bias.is_some(),
            g.gy,
            g.gstate[0],
            g.gstate[1],
            g.need_init,
            g.need_x,
        );
    }

    fn d_init(sh: &Cache, k: usize) -> &[f32] {
        if k == 0 {
            &sh.dh
        } else {
            &sh.dc
        }
    }
}
