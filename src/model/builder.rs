//! Building models: [`Graph`] (Keras' functional API: `Input` → layers →
//! `Model`) and [`Sequential`], with Keras' automatic layer names.

use super::{Model, Node, Src};
use crate::error::{Error, Result};
use crate::nn::{Layer, Shape};

/// Keras' `to_snake_case`: `(.)([A-Z][a-z]+)` → `\1_\2`, then `([a-z])([A-Z])` → `\1_\2`, lower-cased.
fn snake_case(class: &str) -> String {
    let c: Vec<char> = class.chars().collect();
    let mut first = Vec::new();
    for i in 0..c.len() {
        if i > 0 && c[i].is_ascii_uppercase() && i + 1 < c.len() && c[i + 1].is_ascii_lowercase() {
            first.push('_');
        }
        first.push(c[i]);
    }
    let mut out = String::new();
    for i in 0..first.len() {
        if i > 0 && first[i].is_ascii_uppercase() && first[i - 1].is_ascii_lowercase() {
            out.push('_');
        }
        out.extend(first[i].to_lowercase());
    }
    out
}

/// Keras' automatic layer name for a class: `LSTM` → `lstm`, then `lstm_1`, ...
pub fn auto_name(class: &str, taken: &[String]) -> String {
    let base = snake_case(class);
    if !taken.contains(&base) {
        return base;
    }
    (1..)
        .map(|k| format!("{base}_{k}"))
        .find(|n| !taken.iter().any(|t| t == n))
        .expect("an unused name exists")
}

/// Builds a functional model: `Input` → layers applied to earlier nodes → `Model`.
///
/// ```
/// use lstmkit::model::Graph;
/// use lstmkit::nn::{Dense, LSTM};
/// let mut g = Graph::new(&[10, 1]);
/// let x = g.input();
/// let h = g.add(LSTM::new(8).return_sequences(true), &[x]);
/// let h2 = g.add(LSTM::new(4), &[h]);
/// let y = g.add(Dense::new(1), &[h2]);
/// let model = g.build(y, 7).unwrap();
/// assert_eq!(model.output_shape(), vec![1]);
/// ```
pub struct Graph {
    input_shape: Shape,
    nodes: Vec<Node>,
    name: String,
}

impl Graph {
    /// A graph whose input has the given per-sample shape, e.g. `[timesteps, features]`.
    /// A 0 stands for a dimension left open (`None`), e.g. any number of timesteps.
    pub fn new(input_shape: &[usize]) -> Self {
        Graph {
            input_shape: input_shape.to_vec(),
            nodes: Vec::new(),
            name: "model".into(),
        }
    }

    /// Sets the model name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The model input.
    pub fn input(&self) -> Src {
        Src::Input
    }

    /// Applies a layer (automatic Keras-style name) to `inputs`; returns its first output.
    pub fn add(&mut self, layer: impl Layer + 'static, inputs: &[Src]) -> Src {
        self.add_boxed(None, Box::new(layer), inputs)
    }

    /// Applies a named layer to `inputs`; returns its first output.
    pub fn add_named(&mut self, name: &str, layer: impl Layer + 'static, inputs: &[Src]) -> Src {
        self.add_boxed(Some(name), Box::new(layer), inputs)
    }

    /// Applies a boxed layer (name `None` = automatic).
    pub fn add_boxed(&mut self, name: Option<&str>, layer: Box<dyn Layer>, inputs: &[Src]) -> Src {
        let taken: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        let name = match name {
            Some(n) => n.to_string(),
            None => auto_name(layer.class_name(), &taken),
        };
        self.nodes.push(Node {
            name,
            layer,
            inputs: inputs.to_vec(),
            output_shapes: Vec::new(),
        });
        Src::Node(self.nodes.len() - 1, 0)
    }

    /// Output `k` of the node that produced `src` (for multi-output layers).
    pub fn output_of(src: Src, k: usize) -> Src {
        match src {
            Src::Node(n, _) => Src::Node(n, k),
            Src::Input => Src::Input,
        }
    }

    /// Checks every shape, creates the weights from `seed`, and returns the model.
    pub fn build(self, output: Src, seed: u64) -> Result<Model> {
        Model::from_nodes(self.name, self.input_shape, self.nodes, output, seed)
    }
}

/// A linear stack of layers (Keras' `Sequential`).
pub struct Sequential {
    graph: Graph,
    last: Src,
}

impl Sequential {
    /// A stack whose input has the per-sample shape `input_shape` (e.g. `[timesteps, features]`).
    pub fn new(input_shape: &[usize]) -> Self {
        Sequential {
            graph: Graph::new(input_shape).name("sequential"),
            last: Src::Input,
        }
    }

    /// Appends a layer with an automatic name.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Layer + 'static) -> Self {
        self.last = self.graph.add(layer, &[self.last]);
        self
    }

    /// Appends a named layer.
    pub fn add_named(mut self, name: &str, layer: impl Layer + 'static) -> Self {
        self.last = self.graph.add_named(name, layer, &[self.last]);
        self
    }

    /// Appends a boxed layer.
    pub fn add_boxed(mut self, name: Option<&str>, layer: Box<dyn Layer>) -> Self {
        self.last = self.graph.add_boxed(name, layer, &[self.last]);
        self
    }

    /// Checks shapes, creates the weights from `seed`, and returns the model.
    pub fn build(self, seed: u64) -> Result<Model> {
        if self.last == Src::Input {
            return Err(Error::Config(
                "a Sequential model needs at least one layer".into(),
            ));
        }
        self.graph.build(self.last, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keras_auto_names() {
        assert_eq!(snake_case("LSTM"), "lstm");
        assert_eq!(snake_case("BatchNormalization"), "batch_normalization");
        assert_eq!(
            snake_case("GlobalAveragePooling1D"),
            "global_average_pooling1d"
        );
        assert_eq!(snake_case("GRU"), "gru");
        let taken = vec!["lstm".to_string()];
        assert_eq!(auto_name("LSTM", &taken), "lstm_1");
    }
}
