//! `GRU`: Keras' gated recurrent unit cell with a fused forward pass and
//! back-propagation through time, in the style of [`LSTM`](super::LSTM); the
//! sequencing around it is the recurrent base ([`Rnn`](super::Rnn)).
//!
//! Layout (Keras'): kernel (F, 3u), recurrent_kernel (u, 3u), gate blocks
//! z (update), r (reset), h (candidate). With `reset_after=true` (Keras 3's
//! default) the bias is (2, 3u) = [input bias; recurrent bias] and
//! `hh = act(x·W_h + b_h + r ⊙ (h·U_h + b'_h))`; with `reset_after=false` the
//! bias is (3u) and `hh = act(x·W_h + b_h + (r ⊙ h)·U_h)`. Then
//! `h_t = z ⊙ h_{t-1} + (1 − z) ⊙ hh`.
//!
//! Speed: the input projection of all timesteps is one GEMM; each step does one
//! GEMM for `h·U` (two with `reset_after=false`, whose candidate needs `r` first)
//! and one fused element-wise pass. Buffers live in the shard; nothing is
//! allocated in the time loop.

use serde::{Deserialize, Serialize};

use super::base::{Cell, Pass, Rnn, Upstream};
use super::common::{
    add_col_sums, cell_items, gemm_nn_blk, gemm_nt_blk, gemm_tn_blk, input_grad, input_projection,
    kernel_grad, simd_variants,
};
use crate::error::{Error, Result};
use crate::nn::activation::{apply_loop, deriv_loop, Activation};
use crate::nn::config::{self};
use crate::nn::gemm;

/// A Keras-compatible GRU layer: the recurrent base around a [`GruCell`].
///
/// ```
/// use lstmkit::model::Sequential;
/// use lstmkit::nn::{Dense, GRU};
/// use lstmkit::Tensor;
/// let mut m = Sequential::new(&[10, 2])
///     .add(GRU::new(8))
///     .add(Dense::new(1))
///     .build(1)
///     .unwrap();
/// assert_eq!(m.predict(&Tensor::zeros(&[3, 10, 2])).unwrap().shape, vec![3, 1]);
/// // Keras 3 default: reset_after = true, bias (2, 3u)
/// assert_eq!(m.get_weights()[2].shape, vec![2, 24]);
/// ```
pub type GRU = Rnn<GruCell>;

/// `keras.layers.GRU`'s cell options, with Keras' names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GruConfig {
    /// Hidden width u (≥ 1).
    #[serde(deserialize_with = "config::usize_lenient")]
    pub units: usize,
    /// Candidate activation.
    #[serde(default = "config::tanh")]
    pub activation: Activation,
    /// Gate activation (any activation but swish and gelu).
    #[serde(default = "config::sigmoid")]
    pub recurrent_activation: Activation,
    /// Apply the reset gate after the recurrent matrix multiply (Keras 3 default).
    #[serde(default = "config::yes")]
    pub reset_after: bool,
}

/// The GRU cell: its options and weights.
pub struct GruCell {
    /// The options.
    pub config: GruConfig,
}

/// Per-shard buffers.
#[derive(Default)]
pub struct Cache {
    xs: Vec<f32>,    // (T, B, F) processing order
    gx: Vec<f32>,    // (T, B, 3u) x·W + b_in
    hr: Vec<f32>,    // (T, B, 3u) recurrent projections
    gates: Vec<f32>, // (T, B, 3u) z, r, hh (activated)
    ah: Vec<f32>,    // (T, B, u) candidate pre-activation
    rh: Vec<f32>,    // (T, B, u) r ⊙ h_{t-1} (reset_after = false)
    hs: Vec<f32>,    // (T+1, B, u)
    dgx: Vec<f32>,   // (T, B, 3u)
    dhr: Vec<f32>,   // (T, B, 3u)
    dh: Vec<f32>,    // (B, u)
    dhn: Vec<f32>,   // (B, u)
    tmp: Vec<f32>,   // (B, u)
    drh: Vec<f32>,   // (B, u)
    dxs: Vec<f32>,   // (T, B, F)
    dxs2: Vec<f32>,  // (T, B, F)
    xin: Vec<f32>,   // n_in × (T, B, F)
    hms: Vec<f32>,   // 3 × (T, B, u)
    gw: Vec<f32>,    // partial dL/dkernel
    gu: Vec<f32>,    // partial dL/drecurrent_kernel
    gb: Vec<f32>,    // partial dL/dbias
    t: usize,
}

impl GRU {
    setters! { cell.config =>
        /// Sets the candidate activation.
        activation: Activation,
        /// Sets the gate activation.
        recurrent_activation: Activation,
        /// Sets `reset_after`.
        reset_after: bool,
    }
}

// ---------------------------------------------------------------------------
// Fused kernels
// ---------------------------------------------------------------------------

#[inline(always)]
fn rec_deriv(rec: Activation, y: &[f32], g: &mut [f32]) {
    match rec {
        Activation::HardSigmoid => {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= if y > 0.0 && y < 1.0 { 1.0 / 6.0 } else { 0.0 };
            }
        }
        Activation::HardSigmoidKeras2 => {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= if y > 0.0 && y < 1.0 { 0.2 } else { 0.0 };
            }
        }
        Activation::Sigmoid => {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= y * (1.0 - y);
            }
        }
        // any other gate activation whose output determines its derivative
        other => {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= other.deriv_from_output(y);
            }
        }
    }
}

/// z and r for all rows: `g[.., :2u] = rec(gx + hr)`.
#[inline(always)]
fn zr_fwd_impl(u: usize, rec: Activation, gx: &[f32], hr: &[f32], g: &mut [f32]) {
    let w = 3 * u;
    for ((grow, gxr), hrr) in g
        .chunks_exact_mut(w)
        .zip(gx.chunks_exact(w))
        .zip(hr.chunks_exact(w))
    {
        for j in 0..2 * u {
            grow[j] = gxr[j] + hrr[j];
        }
        apply_loop(rec, &mut grow[..2 * u]);
    }
}

/// Candidate and new state for all rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn h_fwd_impl(
    u: usize,
    act: Activation,
    reset_after: bool,
    gx: &[f32],
    hr: &[f32],
    g: &mut [f32],
    ah: &mut [f32],
    hp: &[f32],
    h: &mut [f32],
) {
    let w = 3 * u;
    for (b, ((grow, gxr), hrr)) in g
        .chunks_exact_mut(w)
        .zip(gx.chunks_exact(w))
        .zip(hr.chunks_exact(w))
        .enumerate()
    {
        let r = b * u..(b + 1) * u;
        let (zr, hh) = grow.split_at_mut(2 * u);
        let a = &mut ah[r.clone()];
        if reset_after {
            for j in 0..u {
                a[j] = gxr[2 * u + j] + zr[u + j] * hrr[2 * u + j];
            }
        } else {
            for j in 0..u {
                a[j] = gxr[2 * u + j] + hrr[2 * u + j];
            }
        }
        hh.copy_from_slice(a);
        apply_loop(act, hh);
        let (hpr, hr_) = (&hp[r.clone()], &mut h[r]);
        for j in 0..u {
            hr_[j] = zr[j] * hpr[j] + (1.0 - zr[j]) * hh[j];
        }
    }
}

/// First backward pass of a step: from dL/dh_t to the pre-activation gradients.
/// Writes `dgx` = [dz, dr, da] (dr only when `reset_after`), `dhr` = [dz, dr, da·r]
/// (when `reset_after`) and `dhn` = dL/dh_{t-1} through the direct path `z ⊙ h_{t-1}`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn bwd_a_impl(
    u: usize,
    act: Activation,
    rec: Activation,
    reset_after: bool,
    g: &[f32],
    ah: &[f32],
    hr: &[f32],
    hp: &[f32],
    dh: &[f32],
    dgx: &mut [f32],
    dhr: &mut [f32],
    dhn: &mut [f32],
) {
    let w = 3 * u;
    for (b, ((grow, dgr), hrr)) in g
        .chunks_exact(w)
        .zip(dgx.chunks_exact_mut(w))
        .zip(hr.chunks_exact(w))
        .enumerate()
    {
        let r = b * u..(b + 1) * u;
        let (z, rest) = grow.split_at(u);
        let (rg, hh) = rest.split_at(u);
        let (dz, rest) = dgr.split_at_mut(u);
        let (dr, da) = rest.split_at_mut(u);
        let (dhb, hpb, dhnb) = (&dh[r.clone()], &hp[r.clone()], &mut dhn[r.clone()]);
        for j in 0..u {
            dz[j] = dhb[j] * (hpb[j] - hh[j]);
            da[j] = dhb[j] * (1.0 - z[j]);
            dhnb[j] = dhb[j] * z[j];
        }
        deriv_loop(act, &ah[r], hh, da);
        rec_deriv(rec, z, dz);
        if reset_after {
            for j in 0..u {
                dr[j] = da[j] * hrr[2 * u + j];
            }
            rec_deriv(rec, rg, dr);
            let dhrow = &mut dhr[b * w..(b + 1) * w];
            dhrow[..2 * u].copy_from_slice(&dgr[..2 * u]);
            for j in 0..u {
                dhrow[2 * u + j] = dgr[2 * u + j] * rg[j];
            }
        }
    }
}

/// Second backward pass for `reset_after=false`: given `drh` = dL/d(r ⊙ h') (h' =
/// the possibly masked h_{t-1}), writes dr into `dgx` and `drh ⊙ r` into `tmp`.
#[inline(always)]
fn bwd_b_impl(
    u: usize,
    rec: Activation,
    g: &[f32],
    hm: &[f32],
    drh: &[f32],
    dgx: &mut [f32],
    tmp: &mut [f32],
) {
    let w = 3 * u;
    for (b, (grow, dgr)) in g.chunks_exact(w).zip(dgx.chunks_exact_mut(w)).enumerate() {
        let r = b * u..(b + 1) * u;
        let rg = &grow[u..2 * u];
        let dr = &mut dgr[u..2 * u];
        let (d, h, t) = (&drh[r.clone()], &hm[r.clone()], &mut tmp[r]);
        for j in 0..u {
            dr[j] = d[j] * h[j];
            t[j] = d[j] * rg[j];
        }
        rec_deriv(rec, rg, dr);
    }
}

simd_variants!(zr_fwd_impl, zr_fwd_avx512, zr_fwd_avx2, zr_fwd,
    (u: usize, rec: Activation, gx: &[f32], hr: &[f32], g: &mut [f32]));
simd_variants!(h_fwd_impl, h_fwd_avx512, h_fwd_avx2, h_fwd,
    (u: usize, act: Activation, reset_after: bool, gx: &[f32], hr: &[f32], g: &mut [f32], ah: &mut [f32], hp: &[f32], h: &mut [f32]));
simd_variants!(bwd_a_impl, bwd_a_avx512, bwd_a_avx2, bwd_a,
    (u: usize, act: Activation, rec: Activation, reset_after: bool, g: &[f32], ah: &[f32], hr: &[f32], hp: &[f32], dh: &[f32], dgx: &mut [f32], dhr: &mut [f32], dhn: &mut [f32]));
simd_variants!(bwd_b_impl, bwd_b_avx512, bwd_b_avx2, bwd_b,
    (u: usize, rec: Activation, g: &[f32], hm: &[f32], drh: &[f32], dgx: &mut [f32], tmp: &mut [f32]));

impl Cell for GruCell {
    cell_items!(GruConfig, "GRU", "gru", states &["h"], gates 3);

    fn from_config(config: GruConfig) -> Self {
        GruCell { config }
    }

    fn check(&self) -> Result<()> {
        let c = &self.config;
        if c.recurrent_activation.deriv_needs_input() {
            return Err(Error::Config(format!(
                "option 'recurrent_activation' = '{}' is not supported for GRU gates (any activation but swish and gelu)",
                c.recurrent_activation.name()
            )));
        }
        Ok(())
    }

    fn bias_shape(&self) -> Vec<usize> {
        let g3 = 3 * self.config.units;
        if self.config.reset_after {
            vec![2, g3]
        } else {
            vec![g3]
        }
    }

    fn forward(&self, p: &Pass, sh: &mut Cache, x: &[f32], init: &[Option<&[f32]>]) {
        let (wts, sq, d) = (p.w, &p.s, p.d);
        let c = sh;
        let cf = &self.config;
        let bias_v: &[f32] = wts.bias().unwrap_or(&[]);
        let use_bias = wts.bias.is_some();
        let (b, t, f, u) = (sq.b, sq.t, sq.f, cf.units);
        let g3 = 3 * u;
        let bu = b * u;
        c.t = t;
        c.xs.resize(t * b * f, 0.0);
        c.gx.resize(t * b * g3, 0.0);
        c.hr.resize(t * b * g3, 0.0);
        c.gates.resize(t * b * g3, 0.0);
        c.ah.resize(t * bu, 0.0);
        c.hs.resize((t + 1) * bu, 0.0);
        if !cf.reset_after {
            c.rh.resize(t * bu, 0.0);
        }
        for s in 0..t {
            let ts = if sq.go_backwards { t - 1 - s } else { s };
            for bi in 0..b {
                let src = &x[(bi * t + ts) * f..(bi * t + ts + 1) * f];
                c.xs[(s * b + bi) * f..(s * b + bi + 1) * f].copy_from_slice(src);
            }
        }
        match init[0] {
            Some(h) => c.hs[..bu].copy_from_slice(h),
            None => c.hs[..bu].fill(0.0),
        }
        // input projection for all steps
        let beta = if use_bias {
            let bin = &bias_v[..g3];
            for row in c.gx.chunks_exact_mut(g3) {
                row.copy_from_slice(bin);
            }
            1.0
        } else {
            0.0
        };
        let w = &wts.kernel.value.data;
        input_projection(d, (t, b, f, u, 3), &c.xs, w, beta, &mut c.xin, &mut c.gx);
        if d.rec_on {
            c.hms.resize(3 * t * bu, 0.0);
        }
        let level = sq.level;
        let rk = &wts.recurrent.value.data;
        let brec: Option<&[f32]> = if use_bias && cf.reset_after {
            Some(&bias_v[g3..])
        } else {
            None
        };
        for s in 0..t {
            let (hprev, hnext) = c.hs.split_at_mut((s + 1) * bu);
            let hp = &hprev[s * bu..];
            let rows = s * b * g3..(s + 1) * b * g3;
            let hr = &mut c.hr[rows.clone()];
            let (nrec, rbeta) = if cf.reset_after { (3, 1.0) } else { (2, 0.0) };
            if cf.reset_after {
                match brec {
                    Some(br) => {
                        for row in hr.chunks_exact_mut(g3) {
                            row.copy_from_slice(br);
                        }
                    }
                    None => hr.fill(0.0),
                }
            }
            if !d.rec_on {
                gemm_nn_blk(b, u, nrec * u, g3, 0, hp, rk, rbeta, hr);
            } else {
                for k in 0..3 {
                    let hm = &mut c.hms[(k * t + s) * bu..(k * t + s + 1) * bu];
                    let m = &d.rec_mask[k * bu..(k + 1) * bu];
                    for j in 0..bu {
                        hm[j] = hp[j] * m[j];
                    }
                    if k < nrec {
                        gemm_nn_blk(b, u, u, g3, k * u, hm, rk, rbeta, hr);
                    }
                }
            }
            let gx = &c.gx[rows.clone()];
            let g = &mut c.gates[rows];
            zr_fwd(level, u, cf.recurrent_activation, gx, hr, g);
            if !cf.reset_after {
                // candidate's recurrent input r ⊙ h'
                let rh = &mut c.rh[s * bu..(s + 1) * bu];
                let hsrc: &[f32] = if d.rec_on {
                    &c.hms[(2 * t + s) * bu..(2 * t + s + 1) * bu]
                } else {
                    hp
                };
                for (bi, grow) in g.chunks_exact(g3).enumerate() {
                    for j in 0..u {
                        rh[bi * u + j] = grow[u + j] * hsrc[bi * u + j];
                    }
                }
                gemm_nn_blk(b, u, u, g3, 2 * u, rh, rk, 0.0, hr);
            }
            h_fwd(
                level,
                u,
                cf.activation,
                cf.reset_after,
                gx,
                hr,
                g,
                &mut c.ah[s * bu..(s + 1) * bu],
                hp,
                &mut hnext[..bu],
            );
        }
    }

    fn backward(&self, p: &Pass, sh: &mut Cache, g: &Upstream) {
        let (wts, sq, d) = (p.w, &p.s, p.d);
        let (gy, gstate, need_init, need_x) = (g.gy, g.gstate, g.need_init, g.need_x);
        let c = sh;
        let cf = &self.config;
        let _bias_v: &[f32] = wts.bias().unwrap_or(&[]);
        let use_bias = wts.bias.is_some();
        let (b, t, f, u) = (sq.b, sq.t, sq.f, cf.units);
        let g3 = 3 * u;
        let bu = b * u;
        c.dgx.resize(t * b * g3, 0.0);
        if cf.reset_after {
            c.dhr.resize(t * b * g3, 0.0);
        }
        c.dh.resize(bu, 0.0);
        c.dhn.resize(bu, 0.0);
        c.tmp.resize(bu, 0.0);
        c.drh.resize(bu, 0.0);
        c.dh.fill(0.0);
        if let Some(g) = gstate[0] {
            for (dd, g) in c.dh.iter_mut().zip(g) {
                *dd += g;
            }
        }
        let level = sq.level;
        let rk = &wts.recurrent.value.data;
        let need_h0 = need_init;
        for s in (0..t).rev() {
            if sq.return_sequences {
                for bi in 0..b {
                    let src = &gy[(bi * t + s) * u..(bi * t + s + 1) * u];
                    for (dd, g) in c.dh[bi * u..(bi + 1) * u].iter_mut().zip(src) {
                        *dd += g;
                    }
                }
            } else if s == t - 1 {
                for (dd, g) in c.dh.iter_mut().zip(gy) {
                    *dd += g;
                }
            }
            let rows = s * b * g3..(s + 1) * b * g3;
            let hp = &c.hs[s * bu..(s + 1) * bu];
            let dgx = &mut c.dgx[rows.clone()];
            let dhr: &mut [f32] = if cf.reset_after {
                &mut c.dhr[rows.clone()]
            } else {
                &mut []
            };
            bwd_a(
                level,
                u,
                cf.activation,
                cf.recurrent_activation,
                cf.reset_after,
                &c.gates[rows.clone()],
                &c.ah[s * bu..(s + 1) * bu],
                &c.hr[rows.clone()],
                hp,
                &c.dh,
                dgx,
                dhr,
                &mut c.dhn,
            );
            if !cf.reset_after {
                // d(r ⊙ h') = da · U_hᵀ
                gemm_nt_blk(b, u, u, g3, 2 * u, dgx, rk, 0.0, &mut c.drh);
                let hm: &[f32] = if d.rec_on {
                    &c.hms[(2 * t + s) * bu..(2 * t + s + 1) * bu]
                } else {
                    hp
                };
                bwd_b(
                    level,
                    u,
                    cf.recurrent_activation,
                    &c.gates[rows.clone()],
                    hm,
                    &c.drh,
                    dgx,
                    &mut c.tmp,
                );
                if d.rec_on {
                    let m = &d.rec_mask[2 * bu..3 * bu];
                    for j in 0..bu {
                        c.dhn[j] += c.tmp[j] * m[j];
                    }
                } else {
                    for j in 0..bu {
                        c.dhn[j] += c.tmp[j];
                    }
                }
            }
            if s > 0 || need_h0 {
                let (src, nrec): (&[f32], usize) = if cf.reset_after {
                    (&c.dhr[rows.clone()], 3)
                } else {
                    (&c.dgx[rows.clone()], 2)
                };
                if !d.rec_on {
                    gemm_nt_blk(b, nrec * u, u, g3, 0, src, rk, 1.0, &mut c.dhn);
                } else {
                    for k in 0..nrec {
                        gemm_nt_blk(b, u, u, g3, k * u, src, rk, 0.0, &mut c.tmp);
                        let m = &d.rec_mask[k * bu..(k + 1) * bu];
                        for j in 0..bu {
                            c.dhn[j] += c.tmp[j] * m[j];
                        }
                    }
                }
            }
            std::mem::swap(&mut c.dh, &mut c.dhn);
        }
        // weight gradients
        let tbu = t * bu;
        let tb = t * b;
        c.gu.clear();
        c.gu.resize(u * g3, 0.0);
        let gu = &mut c.gu;
        if cf.reset_after {
            if !d.rec_on {
                gemm::gemm_tn(u, tb, g3, &c.hs[..tbu], &c.dhr, 1.0, gu);
            } else {
                for k in 0..3 {
                    let hm = &c.hms[k * tbu..(k + 1) * tbu];
                    gemm_tn_blk(u, tb, u, g3, k * u, hm, &c.dhr, gu);
                }
            }
        } else {
            if !d.rec_on {
                gemm_tn_blk(u, tb, 2 * u, g3, 0, &c.hs[..tbu], &c.dgx, gu);
            } else {
                for k in 0..2 {
                    let hm = &c.hms[k * tbu..(k + 1) * tbu];
                    gemm_tn_blk(u, tb, u, g3, k * u, hm, &c.dgx, gu);
                }
            }
            gemm_tn_blk(u, tb, u, g3, 2 * u, &c.rh, &c.dgx, gu);
        }
        let dims = (t, b, f, u, 3);
        kernel_grad(d, dims, &c.xs, &c.xin, &c.dgx, &mut c.gw);
        if use_bias {
            c.gb.clear();
            c.gb.resize(if cf.reset_after { 2 * g3 } else { g3 }, 0.0);
            add_col_sums(&mut c.gb[..g3], &c.dgx);
            if cf.reset_after {
                add_col_sums(&mut c.gb[g3..], &c.dhr);
            }
        }
        if need_x {
            let w = &wts.kernel.value.data;
            input_grad(d, dims, &c.dgx, w, None, &mut c.dxs2, &mut c.dxs);
        }
    }

    fn d_init(sh: &Cache, _k: usize) -> &[f32] {
        &sh.dh
    }
}
