//! A small AVX-512 GEMM for the engine's shapes (row-major B and C, any A strides).
//!
//! The recurrent layers multiply small matrices thousands of times per epoch
//! (e.g. 32×50 by 50×200 per time step): general GEMM libraries spend much of
//! that time packing and dispatching. This kernel needs no packing: B's rows
//! are read in place, 48 columns (three 16-wide vectors) at a time, against
//! 8 broadcast rows of A, with K processed in cache-sized chunks. Column tails
//! use AVX-512 masks.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

const KC: usize = 256;

/// `C (m×n) = beta·C + A·B` where A(i, p) = `a[i·rsa + p·csa]`, B row-major with
/// leading dimension `ldb`, C row-major with leading dimension `ldc`.
///
/// # Safety
/// The CPU must support AVX-512F, and every index implied by the arguments must
/// be inside the slices (the caller checks spans).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
pub unsafe fn sgemm_avx512(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut p0 = 0;
    loop {
        let kc = KC.min(k - p0);
        let first = p0 == 0;
        let mut j = 0;
        while j < n {
            let w = (n - j).min(48);
            let v = w.div_ceil(16);
            let last_mask: __mmask16 = if w.is_multiple_of(16) {
                0xFFFF
            } else {
                ((1u32 << (w % 16)) - 1) as __mmask16
            };
            let mut i = 0;
            while i < m {
                let r = (m - i).min(8);
                let ap = a.offset(i as isize * rsa + p0 as isize * csa);
                let bp = b.add(p0 * ldb + j);
                let cp = c.add(i * ldc + j);
                let bet = if first { beta } else { 1.0 };
                macro_rules! go {
                    ($r:literal, $v:literal) => {
                        tile::<$r, $v>(kc, ap, rsa, csa, bp, ldb, bet, cp, ldc, last_mask)
                    };
                }
                match (r, v) {
                    (8, 3) => go!(8, 3),
                    (8, 2) => go!(8, 2),
                    (8, 1) => go!(8, 1),
                    (7, 3) => go!(7, 3),
                    (7, 2) => go!(7, 2),
                    (7, 1) => go!(7, 1),
                    (6, 3) => go!(6, 3),
                    (6, 2) => go!(6, 2),
                    (6, 1) => go!(6, 1),
                    (5, 3) => go!(5, 3),
                    (5, 2) => go!(5, 2),
                    (5, 1) => go!(5, 1),
                    (4, 3) => go!(4, 3),
                    (4, 2) => go!(4, 2),
                    (4, 1) => go!(4, 1),
                    (3, 3) => go!(3, 3),
                    (3, 2) => go!(3, 2),
                    (3, 1) => go!(3, 1),
                    (2, 3) => go!(2, 3),
                    (2, 2) => go!(2, 2),
                    (2, 1) => go!(2, 1),
                    (1, 3) => go!(1, 3),
                    (1, 2) => go!(1, 2),
                    _ => go!(1, 1),
                }
                i += r;
            }
            j += w;
        }
        p0 += kc;
        if p0 >= k {
            break;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const R: usize, const V: usize>(
    kc: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    last_mask: __mmask16,
) {
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    let mask = |q: usize| if q + 1 == V { last_mask } else { 0xFFFF };
    for p in 0..kc {
        let brow = b.add(p * ldb);
        let mut bv = [_mm512_setzero_ps(); V];
        for q in 0..V {
            bv[q] = _mm512_maskz_loadu_ps(mask(q), brow.add(16 * q));
        }
        let acol = a.offset(p as isize * csa);
        for r in 0..R {
            let x = _mm512_set1_ps(*acol.offset(r as isize * rsa));
            for q in 0..V {
                acc[r][q] = _mm512_fmadd_ps(x, bv[q], acc[r][q]);
            }
        }
    }
    for r in 0..R {
        let crow = c.add(r * ldc);
        for q in 0..V {
            let ptr = crow.add(16 * q);
            let mk = mask(q);
            let out = if beta == 0.0 {
                acc[r][q]
            } else if beta == 1.0 {
                _mm512_add_ps(acc[r][q], _mm512_maskz_loadu_ps(mk, ptr))
            } else {
                _mm512_fmadd_ps(
                    _mm512_set1_ps(beta),
                    _mm512_maskz_loadu_ps(mk, ptr),
                    acc[r][q],
                )
            };
            _mm512_mask_storeu_ps(ptr, mk, out);
        }
    }
}
