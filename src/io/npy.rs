//! NumPy `.npy` arrays (format versions 1, 2 and 3): float32 little-endian in
//! C order is read as is, float64 (`<f8`) is converted; anything else is
//! refused with a message saying what the file holds. Writes are float32
//! (`<f4`, version 1, or 2 when the header needs it) and atomic.
//!
//! ```
//! use lstmkit::{io::npy, Tensor};
//! let t = Tensor::new(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
//! let bytes = npy::to_bytes(&t);
//! assert_eq!(npy::from_bytes(&bytes, "mem").unwrap(), t);
//! ```

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a `.npy` file as a float32 tensor.
pub fn read(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes, &path.display().to_string())
}

/// Writes a tensor as a float32 `.npy` file, atomically.
pub fn write(path: impl AsRef<Path>, t: &Tensor) -> Result<()> {
    let bytes = to_bytes(t);
    super::atomic_write(path, |w| w.write_all(&bytes))
}

fn bad(name: &str, msg: impl Into<String>) -> Error {
    Error::Data(format!("{name}: not a readable .npy array: {}", msg.into()))
}

/// Parses `.npy` bytes; `name` names the source in errors.
pub fn from_bytes(b: &[u8], name: &str) -> Result<Tensor> {
    if b.len() < 10 || &b[..6] != MAGIC {
        return Err(bad(name, "missing the \\x93NUMPY signature"));
    }
    let major = b[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10usize),
        2 | 3 => {
            if b.len() < 12 {
                return Err(bad(name, "truncated header"));
            }
            (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
        }
        v => return Err(bad(name, format!("unsupported format version {v}"))),
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= b.len())
        .ok_or_else(|| bad(name, "truncated header"))?;
    let header =
        std::str::from_utf8(&b[start..end]).map_err(|_| bad(name, "the header is not text"))?;
    let descr =
        dict_value(header, "descr").ok_or_else(|| bad(name, "the header has no 'descr'"))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let fortran = dict_value(header, "fortran_order")
        .ok_or_else(|| bad(name, "the header has no 'fortran_order'"))?;
    let shape_s =
        dict_value(header, "shape").ok_or_else(|| bad(name, "the header has no 'shape'"))?;
    let shape = parse_shape(shape_s).ok_or_else(|| bad(name, format!("bad shape {shape_s}")))?;
    let fortran = match fortran.trim() {
        "False" => false,
        "True" => true,
        other => return Err(bad(name, format!("bad fortran_order {other}"))),
    };
    let elem = match descr {
        "<f4" => 4,
        "<f8" => 8,
        other => {
            return Err(Error::Data(format!(
            "{name}: the array has dtype '{other}', expected float32 ('<f4') or float64 ('<f8'); \
                 convert it with x.astype('float32')"
        )))
        }
    };
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(name, "the shape is too large"))?;
    let data = &b[end..];
    let need = n
        .checked_mul(elem)
        .ok_or_else(|| bad(name, "the shape is too large"))?;
    if data.len() != need {
        return Err(bad(
            name,
            format!(
                "shape {shape:?} needs {need} data bytes, the file has {} (truncated or corrupt)",
                data.len()
            ),
        ));
    }
    let v: Vec<f32> = if elem == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    let v = if fortran { fortran_to_c(v, &shape) } else { v };
    Tensor::new(&shape, v)
}

/// Reorders column-major (Fortran, first index fastest) values into row-major.
fn fortran_to_c(v: Vec<f32>, shape: &[usize]) -> Vec<f32> {
    if shape.len() < 2 || v.is_empty() {
        return v;
    }
    let mut fstride = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(v.len());
    for _ in 0..v.len() {
        out.push(v[idx.iter().zip(&fstride).map(|(i, s)| i * s).sum::<usize>()]);
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// The raw text of `'key': value` in a NumPy header dict.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}'");
    let pat2 = format!("\"{key}\"");
    let i = header.find(&pat1).or_else(|| header.find(&pat2))? + key.len() + 2;
    let rest = header[i..].trim_start().strip_prefix(':')?.trim_start();
    // value ends at the top-level comma or closing brace
    let mut depth = 0i32;
    for (j, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..j]),
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    None
}

fn parse_shape(s: &str) -> Option<Vec<usize>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.trim_end_matches('L').parse().ok())
        .collect()
}

/// Serialises a tensor as `.npy` bytes (`<f4`, C order).
pub fn to_bytes(t: &Tensor) -> Vec<u8> {
    let shape = match t.shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", t.shape[0]),
        _ => format!(
            "({})",
            t.shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // pad (with spaces, then '\n') so that the data starts at a multiple of 64
    let (pre, v2) = if dict.len() + 11 < 65_536 {
        (10, false)
    } else {
        (12, true)
    };
    let total = (pre + dict.len() + 1).div_ceil(64) * 64;
    let hlen = total - pre;
    let mut out = Vec::with_capacity(total + 4 * t.data.len());
    out.extend_from_slice(MAGIC);
    if v2 {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(hlen as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(hlen as u16).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    for x in &t.data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_shapes() {
        for shape in [vec![], vec![3], vec![2, 3], vec![4, 5, 1], vec![0, 3]] {
            let n: usize = shape.iter().product();
            let t = Tensor::new(&shape, (0..n).map(|i| i as f32 * 0.5 - 1.0).collect()).unwrap();
            let b = to_bytes(&t);
            assert_eq!((b.len() - 4 * n) % 64, 0);
            assert_eq!(from_bytes(&b, "t").unwrap(), t);
        }
    }

    fn header(descr: &str, fortran: &str, shape: &str) -> Vec<u8> {
        let dict =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n");
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        b
    }

    #[test]
    fn converts_f64_and_refuses_others() {
        let mut b = header("<f8", "False", "(2,)");
        b.extend_from_slice(&1.5f64.to_le_bytes());
        b.extend_from_slice(&(-2.0f64).to_le_bytes());
        assert_eq!(from_bytes(&b, "x").unwrap().data, vec![1.5, -2.0]);
        let mut b = header("<i8", "False", "(1,)");
        b.extend_from_slice(&[0; 8]);
        let e = from_bytes(&b, "ints.npy").unwrap_err().to_string();
        assert!(e.contains("ints.npy") && e.contains("<i8"), "{e}");
        let mut b = header(">f4", "False", "(1,)");
        b.extend_from_slice(&[0; 4]);
        assert!(from_bytes(&b, "be")
            .unwrap_err()
            .to_string()
            .contains(">f4"));
    }

    /// `np.save` of a Fortran-ordered array (e.g. `np.asfortranarray(x)`):
    /// the values come back in C order, as NumPy itself reads them.
    #[test]
    fn fortran_order_is_read_as_numpy_does() {
        // x = np.arange(24).reshape(2, 3, 4); stored column-major
        let (a, b, c) = (2, 3, 4);
        let mut b_ = header("<f4", "True", "(2, 3, 4)");
        for k in 0..c {
            for j in 0..b {
                for i in 0..a {
                    b_.extend_from_slice(&(((i * b + j) * c + k) as f32).to_le_bytes());
                }
            }
        }
        let t = from_bytes(&b_, "f").unwrap();
        assert_eq!(t.shape, vec![2, 3, 4]);
        let want: Vec<f32> = (0..24).map(|v| v as f32).collect();
        assert_eq!(t.data, want);
    }

    #[test]
    fn truncated_and_garbage_are_errors() {
        let t = Tensor::new(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let b = to_bytes(&t);
        for cut in 0..b.len() {
            assert!(from_bytes(&b[..cut], "cut").is_err(), "cut at {cut}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(from_bytes(&long, "long").is_err());
        assert!(from_bytes(b"just some text\n", "txt").is_err());
        let mut huge = header("<f4", "False", "(99999999999999, 99999999999)");
        huge.extend_from_slice(&[0; 4]);
        assert!(from_bytes(&huge, "huge").is_err());
    }
}
