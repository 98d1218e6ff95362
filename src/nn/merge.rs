//! Merge layers: `Concatenate(axis)` and `Add` (Keras' `keras.layers.Concatenate`, `Add`).

use serde::{Deserialize, Serialize};

use super::{fmt_shape, Grads, Layer, Shape, Tensors};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn shapes_list(s: &[Shape]) -> String {
    s.iter()
        .map(|x| fmt_shape(x))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn minus_one() -> i64 {
    -1
}

/// `keras.layers.Concatenate`'s options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcatenateConfig {
    /// Axis (Keras counts the batch axis as 0; negative counts from the end;
    /// checked against the inputs when the layer is built).
    #[serde(default = "minus_one")]
    pub axis: i64,
}

layer_config!(ConcatenateConfig => Concatenate, "Concatenate", "concatenate");

/// Concatenates its inputs along `axis` (Keras counts the batch axis as 0; default −1).
///
/// ```
/// use lstmkit::model::Graph;
/// use lstmkit::nn::{Concatenate, Dense, GRU, LSTM};
/// let mut g = Graph::new(&[10, 2]);
/// let x = g.input();
/// let a = g.add(LSTM::new(4), &[x]);
/// let b = g.add(GRU::new(3), &[x]);
/// let c = g.add(Concatenate::new(-1), &[a, b]);
/// let y = g.add(Dense::new(1), &[c]);
/// let m = g.build(y, 1).unwrap();
/// assert_eq!(m.nodes()[2].output_shapes[0], vec![7]);
/// ```
pub struct Concatenate {
    /// The options (`axis`: negative counts from the end; 0 is the batch axis
    /// and is not allowed).
    pub config: ConcatenateConfig,
    ax: usize, // axis within the full (batched) shape
    widths: Vec<usize>,
}

impl Concatenate {
    /// Concatenation along `axis`.
    pub fn new(axis: i64) -> Self {
        Self::from_config(ConcatenateConfig { axis })
    }
    /// A Concatenate layer with these options.
    pub fn from_config(config: ConcatenateConfig) -> Self {
        Concatenate {
            config,
            ax: 0,
            widths: Vec::new(),
        }
    }
}

impl Layer for Concatenate {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() < 2 {
            return Err(Error::Shape(format!(
                "Concatenate needs at least 2 inputs, got {}",
                input_shapes.len()
            )));
        }
        let rank = input_shapes[0].len() + 1;
        let ax = if self.config.axis < 0 {
            rank as i64 + self.config.axis
        } else {
            self.config.axis
        };
        if ax < 1 || ax >= rank as i64 {
            return Err(Error::Config(format!(
                "Concatenate axis {} is out of range for inputs {}",
                self.config.axis,
                shapes_list(input_shapes)
            )));
        }
        let ax = ax as usize;
        let first = &input_shapes[0];
        let mut out = first.clone();
        out[ax - 1] = 0;
        self.widths.clear();
        for s in input_shapes {
            let same = s.len() == first.len()
                && s.iter()
                    .zip(first)
                    .enumerate()
                    .all(|(k, (a, b))| k == ax - 1 || a == b);
            if !same {
                return Err(Error::Shape(format!(
                    "Concatenate(axis={}) needs inputs that match except on that axis, got {}",
                    self.config.axis,
                    shapes_list(input_shapes)
                )));
            }
            out[ax - 1] += s[ax - 1];
            self.widths.push(s[ax - 1]);
        }
        self.ax = ax;
        Ok(vec![out])
    }

    fn forward(&mut self, inputs: Tensors, outputs: &mut [Tensor], _training: bool) -> Result<()> {
        let x0 = inputs[0];
        let ax = self.ax;
        let outer: usize = x0.shape[..ax].iter().product();
        let inner: usize = x0.shape[ax + 1..].iter().product();
        let total: usize = inputs.iter().map(|x| x.shape[ax]).sum();
        let mut shape = x0.shape.clone();
        shape[ax] = total;
        let y = &mut outputs[0];
        y.resize_uninit(&shape);
        let row = total * inner;
        let mut off = 0;
        for x in inputs {
            let w = x.shape[ax] * inner;
            if x.len() != outer * w {
                return Err(Error::Shape(format!(
                    "Concatenate inputs {:?} and {:?} do not fit",
                    x0.shape, x.shape
                )));
            }
            for o in 0..outer {
                y.data[o * row + off..o * row + off + w]
                    .copy_from_slice(&x.data[o * w..(o + 1) * w]);
            }
            off += w;
        }
        Ok(())
    }

    fn backward(&mut self, xs: Tensors, _ys: Tensors, dys: Tensors, dxs: Grads) -> Result<()> {
        let ax = self.ax;
        let x0 = xs[0];
        let outer: usize = x0.shape[..ax].iter().product();
        let inner: usize = x0.shape[ax + 1..].iter().product();
        let total: usize = xs.iter().map(|x| x.shape[ax]).sum();
        let row = total * inner;
        let g = &dys[0].data;
        let mut off = 0;
        for (x, gi) in xs.iter().zip(dxs.iter_mut()) {
            let w = x.shape[ax] * inner;
            if gi.len() == x.len() {
                for o in 0..outer {
                    gi.data[o * w..(o + 1) * w]
                        .copy_from_slice(&g[o * row + off..o * row + off + w]);
                }
            }
            off += w;
        }
        Ok(())
    }
}

/// `keras.layers.Add`'s options: none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddConfig {}

layer_config!(AddConfig => Add, "Add", "add");

/// Element-wise sum of inputs of the same shape.
///
/// ```
/// use lstmkit::model::Graph;
/// use lstmkit::nn::{Add, Dense};
/// let mut g = Graph::new(&[3]);
/// let x = g.input();
/// let a = g.add(Dense::new(2), &[x]);
/// let b = g.add(Dense::new(2), &[x]);
/// let s = g.add(Add::new(), &[a, b]);
/// assert!(g.build(s, 1).is_ok());
/// ```
#[derive(Default)]
pub struct Add {
    /// The options.
    pub config: AddConfig,
}

impl Add {
    /// A new Add layer.
    pub fn new() -> Self {
        Self::default()
    }
    /// An Add layer with these options.
    pub fn from_config(config: AddConfig) -> Self {
        Add { config }
    }
}

impl Layer for Add {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() < 2 {
            return Err(Error::Shape(format!(
                "Add needs at least 2 inputs, got {}",
                input_shapes.len()
            )));
        }
        if input_shapes.iter().any(|s| s != &input_shapes[0]) {
            return Err(Error::Shape(format!(
                "Add needs inputs of the same shape, got {}",
                shapes_list(input_shapes)
            )));
        }
        Ok(vec![input_shapes[0].clone()])
    }

    fn forward(&mut self, inputs: Tensors, outputs: &mut [Tensor], _training: bool) -> Result<()> {
        let y = &mut outputs[0];
        y.resize_uninit(&inputs[0].shape);
        y.data.copy_from_slice(&inputs[0].data);
        for x in &inputs[1..] {
            if x.shape != inputs[0].shape {
                return Err(Error::Shape(format!(
                    "Add inputs {:?} and {:?} differ",
                    inputs[0].shape, x.shape
                )));
            }
            for (o, v) in y.data.iter_mut().zip(&x.data) {
                *o += v;
            }
        }
        Ok(())
    }

    fn backward(&mut self, xs: Tensors, _ys: Tensors, dys: Tensors, dxs: Grads) -> Result<()> {
        for (x, gi) in xs.iter().zip(dxs.iter_mut()) {
            if gi.len() == x.len() {
                gi.data.copy_from_slice(&dys[0].data);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{AddConfig, ConcatenateConfig};
    use crate::nn::config_check::{check_config, float32, refused};
    use serde_json::json;

    #[test]
    fn concatenate_config_reads_writes_and_refuses() {
        check_config::<ConcatenateConfig>(
            json!({"name": "cat", "trainable": true, "dtype": float32(), "axis": 1}),
            json!({"axis": 1}),
        );
        check_config::<ConcatenateConfig>(
            json!({"name": "cat", "axis": null}),
            json!({"axis": -1}),
        );
        let e = refused("Concatenate", json!({"name": "cat", "axis": "last"}));
        assert!(e.contains("'cat'") && e.contains("'axis'"), "{e}");
    }

    #[test]
    fn add_config_reads_writes_and_refuses() {
        check_config::<AddConfig>(
            json!({"name": "add", "trainable": true, "dtype": float32()}),
            json!({}),
        );
    }
}
