//! Models: a directed acyclic graph of layers (Keras' functional API), with
//! [`Sequential`] as the common linear case.
//!
//! ```
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Activation, Dense, LSTM};
//! use lstmkit::Tensor;
//! let mut model = Sequential::new(&[10, 1])
//!     .add(LSTM::new(8).activation(Activation::Relu))
//!     .add(Dense::new(1))
//!     .build(42)
//!     .unwrap();
//! let y = model.predict(&Tensor::zeros(&[4, 10, 1])).unwrap();
//! assert_eq!(y.shape, vec![4, 1]);
//! ```

mod builder;
pub mod memory;
mod summary;

pub use builder::{auto_name, Graph, Sequential};

use crate::error::{Error, Result};
use crate::nn::{fmt_shape, Layer, Param, Shape};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Where a layer's input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// The model input.
    Input,
    /// Output `k` of node `n`.
    Node(usize, usize),
}

/// A layer applied to inputs: one node of the graph.
pub struct Node {
    /// Unique layer name (`lstm`, `lstm_1`, `dense`, ...).
    pub name: String,
    /// The layer.
    pub layer: Box<dyn Layer>,
    /// Its inputs, in order.
    pub inputs: Vec<Src>,
    /// Per-sample output shapes (set by build).
    pub output_shapes: Vec<Shape>,
}

/// Node inputs kept on the stack in `forward` (more spill to the heap).
const INLINE_INPUTS: usize = 4;

/// A built model: layers in topological order, one input, one output.
pub struct Model {
    /// Model name.
    pub name: String,
    /// Name of the model input (Keras' `InputLayer` name; `input_layer` by default).
    pub input_name: String,
    input_shape: Shape,
    nodes: Vec<Node>,
    output: Src,
    acts: Vec<Vec<Tensor>>,
    grads: Vec<Vec<Tensor>>,
    gin: Vec<Vec<Tensor>>,
    input_grad: Tensor,
    rng: Rng,
    /// Optimiser and loss set by `compile`.
    pub(crate) optimizer: Option<crate::train::Optimizer>,
    pub(crate) loss: Option<crate::train::Loss>,
    pub(crate) dy: Tensor,
    one_x: Tensor,
}

impl Model {
    /// Builds a model from nodes in topological order (each node's inputs come earlier).
    pub fn from_nodes(
        name: String,
        input_shape: Shape,
        mut nodes: Vec<Node>,
        output: Src,
        seed: u64,
    ) -> Result<Model> {
        let mut rng = Rng::new(seed);
        let mut seen = std::collections::HashSet::new();
        for n in &nodes {
            if !seen.insert(n.name.clone()) {
                return Err(Error::Config(format!("two layers are named '{}'", n.name)));
            }
        }
        let budget = memory::budget();
        let mut weights = 0u64;
        for i in 0..nodes.len() {
            let (before, rest) = nodes.split_at_mut(i);
            let node = &mut rest[0];
            let mut shapes = Vec::new();
            let mut from = Vec::new();
            for src in &node.inputs {
                match *src {
                    Src::Input => {
                        shapes.push(input_shape.clone());
                        from.push(format!("the model input {}", fmt_shape(&input_shape)));
                    }
                    Src::Node(j, k) => {
                        if j >= i {
                            return Err(Error::Config(format!(
                                "layer '{}' takes its input from a later layer (the graph must be acyclic and in order)",
                                node.name
                            )));
                        }
                        let Some(s) = before[j].output_shapes.get(k) else {
                            return Err(Error::Config(format!(
                                "layer '{}' asks for output {k} of '{}', which has {} output(s)",
                                node.name,
                                before[j].name,
                                before[j].output_shapes.len()
                            )));
                        };
                        shapes.push(s.clone());
                        from.push(format!(
                            "'{}' ({}, output shape {})",
                            before[j].name,
                            before[j].layer.class_name(),
                            fmt_shape(s)
                        ));
                    }
                }
            }
            // weights are estimated from the config before the layer allocates them
            let last = shapes.first().and_then(|s| s.last()).copied().unwrap_or(0) as u64;
            let class = node.layer.class_name();
            let params = memory::layer_params(class, &node.layer.config(), last);
            weights = weights.saturating_add(params);
            if params > 0 {
                memory::check_against(
                    &format!(
                        "layer '{}' ({class}, about {params} weights; {} for the model so far, \
                         with gradients and optimizer state)",
                        node.name,
                        memory::human(memory::weight_bytes(weights))
                    ),
                    memory::weight_bytes(weights),
                    budget.clone(),
                )?;
            }
            let mut lrng = rng.fork();
            node.output_shapes = node.layer.build(&shapes, &mut lrng).map_err(|e| {
                Error::Shape(format!(
                    "layer '{}' ({}) cannot take its input from {}: {}",
                    node.name,
                    node.layer.class_name(),
                    from.join(" and "),
                    e.detail()
                ))
            })?;
        }
        match output {
            Src::Input => return Err(Error::Config("the model output is its input".into())),
            Src::Node(j, k) => {
                if j >= nodes.len() || k >= nodes[j].output_shapes.len() {
                    return Err(Error::Config(
                        "the model output names no layer output".into(),
                    ));
                }
            }
        }
        let n = nodes.len();
        let mut m = Model {
            name,
            input_name: "input_layer".into(),
            input_shape,
            acts: (0..n)
                .map(|i| vec![Tensor::default(); nodes[i].output_shapes.len()])
                .collect(),
            grads: (0..n)
                .map(|i| vec![Tensor::default(); nodes[i].output_shapes.len()])
                .collect(),
            gin: (0..n)
                .map(|i| vec![Tensor::default(); nodes[i].inputs.len()])
                .collect(),
            nodes,
            output,
            input_grad: Tensor::default(),
            rng,
            optimizer: None,
            loss: None,
            dy: Tensor::default(),
            one_x: Tensor::default(),
        };
        m.zero_grad();
        Ok(m)
    }

    /// Per-sample input shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Per-sample output shape.
    pub fn output_shape(&self) -> Shape {
        match self.output {
            Src::Node(j, k) => self.nodes[j].output_shapes[k].clone(),
            Src::Input => self.input_shape.clone(),
        }
    }

    /// The nodes in topological order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Mutable nodes (e.g. to set weights).
    pub fn nodes_mut(&mut self) -> &mut [Node] {
        &mut self.nodes
    }

    /// The model output.
    pub fn output(&self) -> Src {
        self.output
    }

    /// The model-level random stream (shuffling, dropout seeds).
    pub fn rng_mut(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// The model-level random stream's current state (saved for exact resumption).
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Restores the model-level random stream (see [`Model::rng`]).
    pub fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }

    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&dyn Layer> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .map(|n| n.layer.as_ref())
    }

    /// Checks a batch against the input shape (0 = any size).
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let ok = x.ndim() == self.input_shape.len() + 1
            && x.shape[1..]
                .iter()
                .zip(&self.input_shape)
                .all(|(a, b)| *b == 0 || a == b);
        if !ok {
            return Err(Error::Shape(format!(
                "model '{}' expects input (batch{}) but got {:?}",
                self.name,
                self.input_shape
                    .iter()
                    .map(|d| format!(", {d}"))
                    .collect::<String>(),
                x.shape
            )));
        }
        if x.has_non_finite() {
            return Err(Error::Data("input contains NaN or infinite values".into()));
        }
        Ok(())
    }

    /// Forward pass over one batch; returns the model output.
    pub fn forward(&mut self, x: &Tensor, training: bool) -> Result<&Tensor> {
        self.check_input(x)?;
        for i in 0..self.nodes.len() {
            let (before, rest) = self.acts.split_at_mut(i);
            // the inputs on the stack for the usual few (no allocation per call)
            let srcs = &self.nodes[i].inputs;
            let pick = |s: &Src| match *s {
                Src::Input => x,
                Src::Node(j, k) => &before[j][k],
            };
            let mut inline: [&Tensor; INLINE_INPUTS] = [x; INLINE_INPUTS];
            let heap: Vec<&Tensor>;
            let ins: &[&Tensor] = if srcs.len() <= INLINE_INPUTS {
                for (slot, s) in inline.iter_mut().zip(srcs) {
                    *slot = pick(s);
                }
                &inline[..srcs.len()]
            } else {
                heap = srcs.iter().map(pick).collect();
                &heap
            };
            let node = &mut self.nodes[i];
            node.layer
                .forward(ins, &mut rest[0], training)
                .map_err(|e| Error::Shape(format!("layer '{}': {}", node.name, e.detail())))?;
        }
        Ok(self.output_tensor())
    }

    /// Single-window inference fast path: `window` is one sample, `timesteps ×
    /// features` values in row-major order (for a model with open timesteps,
    /// any whole number of rows). Returns the model's output for it. After the
    /// first call with a given window size, nothing is allocated: the input
    /// buffer and every layer's buffers are reused.
    ///
    /// ```
    /// use lstmkit::model::Sequential;
    /// use lstmkit::nn::{Dense, LSTM};
    /// use lstmkit::Tensor;
    /// let mut m = Sequential::new(&[10, 1]).add(LSTM::new(8)).add(Dense::new(1)).build(1).unwrap();
    /// let w: Vec<f32> = (0..10).map(|i| i as f32 / 10.0).collect();
    /// let y = m.predict_one(&w).unwrap().to_vec();
    /// let batch = m.predict(&Tensor::new(&[1, 10, 1], w.clone()).unwrap()).unwrap();
    /// assert_eq!(y, batch.data);
    /// ```
    pub fn predict_one(&mut self, window: &[f32]) -> Result<&[f32]> {
        let mut x = std::mem::take(&mut self.one_x);
        let res = self.fill_one(window, &mut x);
        let res = match res {
            Ok(()) => self.forward(&x, false).map(|_| ()),
            Err(e) => Err(e),
        };
        self.one_x = x;
        res?;
        Ok(&self.output_tensor().data)
    }

    fn fill_one(&self, window: &[f32], x: &mut Tensor) -> Result<()> {
        let per: usize = self.input_shape.iter().filter(|d| **d != 0).product();
        let open = self.input_shape.contains(&0);
        let ok = if open {
            per > 0 && !window.is_empty() && window.len().is_multiple_of(per)
        } else {
            window.len() == per
        };
        if !ok {
            return Err(Error::Shape(format!(
                "model '{}' takes one window of {} values (input {}), got {}",
                self.name,
                if open {
                    format!("a multiple of {per}")
                } else {
                    per.to_string()
                },
                fmt_shape(&self.input_shape),
                window.len()
            )));
        }
        if x.len() != window.len() || x.shape.first() != Some(&1) {
            // a new window size: (re)shape the reused buffer (allocates only here)
            let mut shape = Vec::with_capacity(self.input_shape.len() + 1);
            shape.push(1);
            for d in &self.input_shape {
                shape.push(if *d == 0 { window.len() / per } else { *d });
            }
            x.resize_uninit(&shape);
        }
        x.data.copy_from_slice(window);
        Ok(())
    }

    fn output_tensor(&self) -> &Tensor {
        match self.output {
            Src::Node(j, k) => &self.acts[j][k],
            Src::Input => unreachable!("checked at build"),
        }
    }

    /// Backward pass from dL/d(output) for the batch of the last `forward` call.
    /// Adds every parameter's gradient into [`Param::grad`]. When `want_input_grad`
    /// is true, dL/dx is kept and returned by [`Model::input_grad`].
    pub fn backward(&mut self, x: &Tensor, grad_out: &Tensor, want_input_grad: bool) -> Result<()> {
        let n = self.nodes.len();
        // which node outputs need gradients: reachable backwards from the output
        let mut needed = vec![false; n];
        if let Src::Node(j, _) = self.output {
            needed[j] = true;
        }
        for i in (0..n).rev() {
            if needed[i] {
                for s in &self.nodes[i].inputs {
                    if let Src::Node(j, _) = *s {
                        needed[j] = true;
                    }
                }
            }
        }
        for i in 0..n {
            for (g, a) in self.grads[i].iter_mut().zip(&self.acts[i]) {
                g.resize_zeroed(&a.shape);
            }
        }
        if let Src::Node(j, k) = self.output {
            if self.grads[j][k].shape != grad_out.shape {
                return Err(Error::Shape(format!(
                    "loss gradient shape {:?} does not match the output {:?}",
                    grad_out.shape, self.grads[j][k].shape
                )));
            }
            self.grads[j][k].data.copy_from_slice(&grad_out.data);
        }
        if want_input_grad {
            self.input_grad.resize_zeroed(&x.shape);
        }
        for i in (0..n).rev() {
            if !needed[i] {
                continue;
            }
            let (acts_before, acts_rest) = self.acts.split_at(i);
            let ins: Vec<&Tensor> = self.nodes[i]
                .inputs
                .iter()
                .map(|s| match *s {
                    Src::Input => x,
                    Src::Node(j, k) => &acts_before[j][k],
                })
                .collect();
            let outs: Vec<&Tensor> = acts_rest[0].iter().collect();
            let (grads_before, grads_rest) = self.grads.split_at_mut(i);
            let gouts: Vec<&Tensor> = grads_rest[0].iter().collect();
            let gin = &mut self.gin[i];
            for (m, s) in self.nodes[i].inputs.iter().enumerate() {
                let want = match *s {
                    Src::Input => want_input_grad,
                    Src::Node(..) => true,
                };
                if want {
                    gin[m].resize_uninit(&ins[m].shape);
                } else {
                    gin[m].resize_zeroed(&[0]);
                }
            }
            let node = &mut self.nodes[i];
            node.layer.backward(&ins, &outs, &gouts, gin).map_err(|e| {
                Error::Shape(format!("layer '{}' backward: {}", node.name, e.detail()))
            })?;
            for (m, s) in node.inputs.iter().enumerate() {
                let target = match *s {
                    Src::Input if want_input_grad => &mut self.input_grad,
                    Src::Input => continue,
                    Src::Node(j, k) => &mut grads_before[j][k],
                };
                for (t, g) in target.data.iter_mut().zip(&gin[m].data) {
                    *t += g;
                }
            }
        }
        Ok(())
    }

    /// dL/dx from the last `backward(.., true)`.
    pub fn input_grad(&self) -> &Tensor {
        &self.input_grad
    }

    /// Runs the model in inference mode on `x` (any number of samples), in batches of 256.
    pub fn predict(&mut self, x: &Tensor) -> Result<Tensor> {
        self.predict_batched(x, 256)
    }

    /// Inference in batches of `batch_size`.
    pub fn predict_batched(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        self.check_input(x)?;
        let n = x.batch();
        let per: usize = x.shape[1..].iter().product();
        let bs = batch_size.max(1);
        if n <= bs {
            return Ok(self.forward(x, false)?.clone());
        }
        let mut out: Vec<f32> = Vec::new();
        let mut out_shape = Vec::new();
        let mut chunk = Tensor::default();
        let mut start = 0;
        while start < n {
            let end = (start + bs).min(n);
            let mut shape = x.shape.clone();
            shape[0] = end - start;
            chunk.resize_uninit(&shape);
            chunk.data.copy_from_slice(&x.data[start * per..end * per]);
            let y = self.forward(&chunk, false)?;
            out_shape = y.shape.clone();
            out.extend_from_slice(&y.data);
            start = end;
        }
        out_shape[0] = n;
        Tensor::new(&out_shape, out)
    }

    /// All variables of all layers, in Keras' `get_weights()` order, with the layer name.
    pub fn params(&self) -> Vec<(&str, &Param)> {
        self.nodes
            .iter()
            .flat_map(|n| {
                n.layer
                    .params()
                    .into_iter()
                    .map(move |p| (n.name.as_str(), p))
            })
            .collect()
    }

    /// Mutable access to all variables.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.nodes
            .iter_mut()
            .flat_map(|n| n.layer.params_mut())
            .collect()
    }

    /// Forward-pass FLOPs for one sample, from each layer's matrix products
    /// ([`Layer::flops`]); a training step costs about three times this.
    ///
    /// ```
    /// use lstmkit::model::Sequential;
    /// use lstmkit::nn::{Dense, LSTM};
    /// let m = Sequential::new(&[10, 1]).add(LSTM::new(50)).add(Dense::new(1)).build(0).unwrap();
    /// // LSTM: 2·T·(F + u)·4u = 2·10·51·200; Dense: 2·50·1
    /// assert_eq!(m.flops_per_sample(), 2 * 10 * 51 * 200 + 2 * 50);
    /// ```
    pub fn flops_per_sample(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| {
                let shapes: Vec<Shape> = n
                    .inputs
                    .iter()
                    .map(|s| match *s {
                        Src::Input => self.input_shape.clone(),
                        Src::Node(j, k) => self.nodes[j]
                            .output_shapes
                            .get(k)
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect();
                n.layer.flops(&shapes)
            })
            .sum()
    }

    /// Total number of scalar weights (trainable and not).
    pub fn count_params(&self) -> usize {
        self.params().iter().map(|(_, p)| p.value.len()).sum()
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        for p in self.params_mut() {
            let shape = p.value.shape.clone();
            p.grad.resize_zeroed(&shape);
        }
    }

    /// The weights as plain tensors, in `params()` order (like Keras' `get_weights`).
    pub fn get_weights(&self) -> Vec<Tensor> {
        self.params()
            .into_iter()
            .map(|(_, p)| p.value.clone())
            .collect()
    }

    /// Sets all weights, in `params()` order (like Keras' `set_weights`).
    pub fn set_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        let mut names = Vec::new();
        for n in &self.nodes {
            for _ in n.layer.params() {
                names.push(n.name.clone());
            }
        }
        let mut ps = self.params_mut();
        if ps.len() != weights.len() {
            return Err(Error::Shape(format!(
                "the model has {} weight tensors, got {}",
                ps.len(),
                weights.len()
            )));
        }
        for ((p, w), owner) in ps.iter_mut().zip(weights).zip(&names) {
            p.set(owner, w)?;
        }
        Ok(())
    }

    /// Sum of all regularisation penalties.
    pub fn regularization_loss(&self) -> f32 {
        self.params()
            .iter()
            .filter_map(|(_, p)| p.regularizer.map(|r| r.penalty(&p.value.data)))
            .sum()
    }

    /// Adds the regularisers' gradients into the parameter gradients.
    pub fn add_regularization_grads(&mut self) {
        for p in self.params_mut() {
            if let Some(r) = p.regularizer {
                r.add_grad(&p.value.data, &mut p.grad.data);
            }
        }
    }

    /// Clears the state of every stateful layer (the next batch starts from zeros
    /// and may have a new batch size).
    pub fn reset_states(&mut self) {
        for n in &mut self.nodes {
            n.layer.reset_states();
        }
    }

    /// Keras 3's spelling of [`Model::reset_states`].
    pub fn reset_state(&mut self) {
        self.reset_states();
    }

    /// True when a layer carries state across batches (`stateful = true`): such a
    /// model needs a fixed batch size and unshuffled, ordered batches.
    pub fn is_stateful(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.layer.config().get("stateful") == Some(&serde_json::Value::Bool(true)))
    }

    /// A Keras-style summary table.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }
}
