//! Weight initialisers with Keras' names and formulas.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// A Keras initialiser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initializer {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// U(−l, l) with l = sqrt(6 / (fan_in + fan_out)).
    GlorotUniform,
    /// Truncated normal, stddev sqrt(2 / (fan_in + fan_out)) / 0.8796.
    GlorotNormal,
    /// U(−l, l) with l = sqrt(6 / fan_in).
    HeUniform,
    /// Truncated normal, stddev sqrt(2 / fan_in) / 0.8796.
    HeNormal,
    /// U(−l, l) with l = sqrt(3 / fan_in).
    LecunUniform,
    /// Truncated normal, stddev sqrt(1 / fan_in) / 0.8796.
    LecunNormal,
    /// Orthogonal matrix (QR of a Gaussian matrix), gain 1.
    Orthogonal,
    /// U(−0.05, 0.05).
    RandomUniform,
    /// N(0, 0.05²).
    RandomNormal,
}

impl Initializer {
    /// Parses a Keras name (snake_case or the class name).
    pub fn from_name(name: &str) -> Result<Self> {
        let n: String = name
            .chars()
            .filter(|c| *c != '_')
            .collect::<String>()
            .to_lowercase();
        Ok(match n.as_str() {
            "zeros" => Initializer::Zeros,
            "ones" => Initializer::Ones,
            "glorotuniform" => Initializer::GlorotUniform,
            "glorotnormal" => Initializer::GlorotNormal,
            "heuniform" => Initializer::HeUniform,
            "henormal" => Initializer::HeNormal,
            "lecununiform" => Initializer::LecunUniform,
            "lecunnormal" => Initializer::LecunNormal,
            "orthogonal" => Initializer::Orthogonal,
            "randomuniform" => Initializer::RandomUniform,
            "randomnormal" => Initializer::RandomNormal,
            _ => return Err(Error::Config(format!("unknown initializer '{name}'"))),
        })
    }

    /// The Keras snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Initializer::Zeros => "zeros",
            Initializer::Ones => "ones",
            Initializer::GlorotUniform => "glorot_uniform",
            Initializer::GlorotNormal => "glorot_normal",
            Initializer::HeUniform => "he_uniform",
            Initializer::HeNormal => "he_normal",
            Initializer::LecunUniform => "lecun_uniform",
            Initializer::LecunNormal => "lecun_normal",
            Initializer::Orthogonal => "orthogonal",
            Initializer::RandomUniform => "random_uniform",
            Initializer::RandomNormal => "random_normal",
        }
    }

    /// Fills a (rows × cols) matrix (fan_in = rows, fan_out = cols, as Keras
    /// computes them for a 2-D kernel; a 1-D shape has rows = cols = len).
    pub fn fill(self, rows: usize, cols: usize, rng: &mut Rng) -> Vec<f32> {
        self.fill_fans(rows, cols, rows, cols, rng)
    }

    /// Fills a variable of any shape with Keras' fans (`compute_fans`): for a
    /// convolution kernel (k, in, out) fan_in = k·in and fan_out = k·out; the
    /// orthogonal initialiser sees the kernel as a (k·in × out) matrix.
    ///
    /// ```
    /// use lstmkit::nn::Initializer;
    /// let w = Initializer::GlorotUniform.fill_shape(&[3, 2, 4], &mut lstmkit::rng::Rng::new(0));
    /// let limit = (6.0f32 / (3.0 * 2.0 + 3.0 * 4.0)).sqrt();
    /// assert_eq!(w.len(), 24);
    /// assert!(w.iter().all(|v| v.abs() <= limit));
    /// ```
    pub fn fill_shape(self, shape: &[usize], rng: &mut Rng) -> Vec<f32> {
        let (fan_in, fan_out) = match shape {
            [] => (1, 1),
            [n] => (*n, *n),
            [.., a, b] => {
                let field: usize = shape[..shape.len() - 2].iter().product();
                (a * field, b * field)
            }
        };
        let n: usize = shape.iter().product();
        let cols = shape.last().copied().unwrap_or(1).max(1);
        self.fill_fans(n / cols, cols, fan_in, fan_out, rng)
    }

    /// Fills a (rows × cols) variable with the given fans.
    fn fill_fans(
        self,
        rows: usize,
        cols: usize,
        fan_in: usize,
        fan_out: usize,
        rng: &mut Rng,
    ) -> Vec<f32> {
        let n = rows * cols;
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let uni = |l: f64, rng: &mut Rng| (0..n).map(|_| rng.uniform(-l, l) as f32).collect();
        let tn = |sd: f64, rng: &mut Rng| {
            (0..n)
                .map(|_| loop {
                    let z = rng.normal();
                    if z.abs() <= 2.0 {
                        break (z * sd) as f32;
                    }
                })
                .collect()
        };
        match self {
            Initializer::Zeros => vec![0.0; n],
            Initializer::Ones => vec![1.0; n],
            Initializer::GlorotUniform => uni((6.0 / (fi + fo)).sqrt(), rng),
            Initializer::GlorotNormal => {
                tn((2.0 / (fi + fo)).sqrt() / 0.879_625_661_034_239_8, rng)
            }
            Initializer::HeUniform => uni((6.0 / fi).sqrt(), rng),
            Initializer::HeNormal => tn((2.0 / fi).sqrt() / 0.879_625_661_034_239_8, rng),
            Initializer::LecunUniform => uni((3.0 / fi).sqrt(), rng),
            Initializer::LecunNormal => tn((1.0 / fi).sqrt() / 0.879_625_661_034_239_8, rng),
            Initializer::Orthogonal => orthogonal(rows, cols, rng),
            Initializer::RandomUniform => uni(0.05, rng),
            Initializer::RandomNormal => (0..n).map(|_| (rng.normal() * 0.05) as f32).collect(),
        }
    }
}

/// Keras' orthogonal initialiser for a (rows × cols) matrix: QR of a Gaussian
/// (max × min) matrix, Q's columns sign-fixed by diag(R), transposed when
/// rows < cols, so that rows (or columns) are orthonormal.
pub fn orthogonal(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f32> {
    let (big, small) = (rows.max(cols), rows.min(cols));
    // a: big × small, column-major for Gram–Schmidt convenience.
    let mut q: Vec<Vec<f64>> = (0..small)
        .map(|_| (0..big).map(|_| rng.normal()).collect())
        .collect();
    // modified Gram–Schmidt (twice for stability); R's diagonal is positive
    // by construction, which is Keras' sign fix.
    for j in 0..small {
        for _ in 0..2 {
            for p in 0..j {
                let d: f64 = (0..big).map(|r| q[j][r] * q[p][r]).sum();
                let (head, tail) = q.split_at_mut(j);
                for (a, b) in tail[0].iter_mut().zip(&head[p]) {
                    *a -= d * b;
                }
            }
        }
        let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        for v in q[j].iter_mut() {
            *v /= norm;
        }
    }
    let mut out = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Q is big × small with column j = q[j]; when rows < cols use Qᵀ.
            out[r * cols + c] = if rows >= cols { q[c][r] } else { q[r][c] } as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn orthogonal_rows_are_orthonormal() {
        let mut rng = Rng::new(5);
        let (u, n) = (6, 24);
        let w = orthogonal(u, n, &mut rng);
        for a in 0..u {
            for b in 0..u {
                let d: f32 = (0..n).map(|c| w[a * n + c] * w[b * n + c]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-5, "{a} {b} {d}");
            }
        }
        let w2 = orthogonal(n, u, &mut rng);
        for a in 0..u {
            let d: f32 = (0..n).map(|r| w2[r * u + a] * w2[r * u + a]).sum();
            assert!((d - 1.0).abs() < 1e-5);
        }
    }
    #[test]
    fn glorot_bounds() {
        let mut rng = Rng::new(1);
        let w = Initializer::GlorotUniform.fill(10, 40, &mut rng);
        let l = (6.0f32 / 50.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= l));
        assert!(w.iter().any(|v| v.abs() > l * 0.9));
    }
    #[test]
    fn conv_kernel_fans_follow_keras() {
        let mut rng = Rng::new(2);
        // (k=5, in=3, out=7): fan_in 15, fan_out 35
        let w = Initializer::GlorotUniform.fill_shape(&[5, 3, 7], &mut rng);
        let l = (6.0f32 / 50.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= l) && w.iter().any(|v| v.abs() > l * 0.9));
        let w = Initializer::HeUniform.fill_shape(&[5, 3, 7], &mut rng);
        let l = (6.0f32 / 15.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= l) && w.iter().any(|v| v.abs() > l * 0.9));
        // a 2-D shape is `fill`'s matrix
        let a = Initializer::GlorotUniform.fill_shape(&[4, 6], &mut Rng::new(3));
        let b = Initializer::GlorotUniform.fill(4, 6, &mut Rng::new(3));
        assert_eq!(a, b);
        // orthogonal: the kernel as a (k·in × out) matrix with orthonormal columns
        let w = Initializer::Orthogonal.fill_shape(&[2, 3, 4], &mut rng);
        for a in 0..4 {
            for b in 0..4 {
                let d: f32 = (0..6).map(|r| w[r * 4 + a] * w[r * 4 + b]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-5, "{a} {b} {d}");
            }
        }
    }
}
