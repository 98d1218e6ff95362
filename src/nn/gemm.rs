//! Single-precision matrix multiply for the engine, on the `gemm` crate
//! (faer's kernels: runtime AVX-512 / AVX2 / FMA dispatch) or `matrixmultiply`.
//!
//! All matrices are row-major slices. The backend was chosen by measurement on
//! the engine's shapes (`cargo run --release --example gemm_shapes`); set
//! `LSTMKIT_GEMM=matrixmultiply` to switch at run time.

/// Which GEMM implementation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The `gemm` crate (faer).
    Gemm,
    /// The `matrixmultiply` crate.
    MatrixMultiply,
    /// lstmkit's own AVX-512 kernel ([`crate::nn::kernel`]) where the CPU has
    /// AVX-512 and B and C are row-major; the `gemm` crate otherwise.
    Native,
}

/// The backend in use (from `LSTMKIT_GEMM`, default: the measured winner).
pub fn backend() -> Backend {
    use std::sync::OnceLock;
    static B: OnceLock<Backend> = OnceLock::new();
    *B.get_or_init(|| match std::env::var("LSTMKIT_GEMM").as_deref() {
        Ok("matrixmultiply") => Backend::MatrixMultiply,
        Ok("gemm") => Backend::Gemm,
        Ok("native") => Backend::Native,
        _ => DEFAULT_BACKEND,
    })
}

const DEFAULT_BACKEND: Backend = Backend::Native;

/// Above this inner dimension the `gemm` crate's packed, cache-blocked kernels
/// win over the packing-free native kernel (measured with `examples/gemm_shapes.rs`).
const NATIVE_MAX_K: usize = 1024;

/// General strided GEMM: `C = beta·C + alpha·A·B`, with A m×k, B k×n, C m×n
/// given by row and column strides (in elements).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_strided(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    rsa: isize,
    csa: isize,
    b: &[f32],
    rsb: isize,
    csb: isize,
    beta: f32,
    c: &mut [f32],
    rsc: isize,
    csc: isize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let span = |rows: usize, cols: usize, rs: isize, cs: isize| {
        if rows == 0 || cols == 0 {
            0
        } else {
            ((rows - 1) as isize * rs + (cols - 1) as isize * cs) as usize + 1
        }
    };
    assert!(a.len() >= span(m, k, rsa, csa), "gemm: A too small");
    assert!(b.len() >= span(k, n, rsb, csb), "gemm: B too small");
    assert!(c.len() >= span(m, n, rsc, csc), "gemm: C too small");
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                let p = &mut c[(i as isize * rsc + j as isize * csc) as usize];
                *p *= beta;
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if backend() == Backend::Native
        && k <= NATIVE_MAX_K
        && csb == 1
        && csc == 1
        && rsb >= n as isize
        && rsc >= n as isize
        && crate::nn::activation::simd_level() == crate::nn::activation::SimdLevel::Avx512
    {
        // SAFETY: AVX-512 was detected; the asserts above bound every index.
        unsafe {
            crate::nn::kernel::sgemm_avx512(
                m,
                n,
                k,
                a.as_ptr(),
                rsa,
                csa,
                b.as_ptr(),
                rsb as usize,
                beta,
                c.as_mut_ptr(),
                rsc as usize,
            )
        };
        return;
    }
    // SAFETY: the asserts above bound every index the kernels touch.
    unsafe {
        match backend() {
            Backend::Gemm | Backend::Native => gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                csc,
                rsc,
                beta != 0.0,
                a.as_ptr(),
                csa,
                rsa,
                b.as_ptr(),
                csb,
                rsb,
                beta,
                alpha,
                false,
                false,
                false,
                gemm::Parallelism::None,
            ),
            Backend::MatrixMultiply => matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                a.as_ptr(),
                rsa,
                csa,
                b.as_ptr(),
                rsb,
                csb,
                beta,
                c.as_mut_ptr(),
                rsc,
                csc,
            ),
        }
    }
}

/// `C (m×n) = beta·C + A (m×k) · B (k×n)`, all row-major and contiguous.
pub fn gemm_nn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
    sgemm_strided(
        m, k, n, 1.0, a, k as isize, 1, b, n as isize, 1, beta, c, n as isize, 1,
    )
}

/// `C (m×n) = beta·C + Aᵀ · B` where A is stored k×m and B k×n.
pub fn gemm_tn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
    sgemm_strided(
        m, k, n, 1.0, a, 1, m as isize, b, n as isize, 1, beta, c, n as isize, 1,
    )
}

/// `C (m×n) = beta·C + A · Bᵀ` where A is stored m×k and B n×k.
pub fn gemm_nt(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
    sgemm_strided(
        m, k, n, 1.0, a, k as isize, 1, b, 1, k as isize, beta, c, n as isize, 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    s += a[i * k + p] as f64 * b[p * n + j] as f64;
                }
                c[i * n + j] = s as f32;
            }
        }
        c
    }

    fn transpose(r: usize, c: usize, x: &[f32]) -> Vec<f32> {
        let mut t = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = x[i * c + j];
            }
        }
        t
    }

    #[test]
    fn variants_match_naive() {
        let mut rng = crate::rng::Rng::new(3);
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 7),
            (32, 50, 200),
            (17, 1, 9),
            (64, 128, 512),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
            let want = naive(m, k, n, &a, &b);
            let tol = 1e-4 * (k as f32).sqrt();
            let mut c = vec![1.0; m * n];
            gemm_nn(m, k, n, &a, &b, 0.0, &mut c);
            assert!(c.iter().zip(&want).all(|(x, y)| (x - y).abs() < tol));
            let at = transpose(m, k, &a);
            let mut c2 = vec![0.0; m * n];
            gemm_tn(m, k, n, &at, &b, 0.0, &mut c2);
            assert!(c2.iter().zip(&want).all(|(x, y)| (x - y).abs() < tol));
            let bt = transpose(k, n, &b);
            let mut c3 = vec![0.0; m * n];
            gemm_nt(m, k, n, &a, &bt, 0.0, &mut c3);
            assert!(c3.iter().zip(&want).all(|(x, y)| (x - y).abs() < tol));
            // accumulate
            gemm_nn(m, k, n, &a, &b, 1.0, &mut c3);
            assert!(c3
                .iter()
                .zip(&want)
                .all(|(x, y)| (x - 2.0 * y).abs() < 2.0 * tol));
        }
    }
}
