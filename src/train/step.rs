//! `compile`, `train_on_batch`, `test_on_batch`: one optimisation step.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::{Loss, Optimizer};

impl Model {
    /// Sets the optimiser and loss (Keras' `compile`).
    pub fn compile(&mut self, optimizer: Optimizer, loss: Loss) {
        self.optimizer = Some(optimizer);
        self.loss = Some(loss);
    }

    /// The optimiser set by `compile`.
    pub fn optimizer(&self) -> Option<&Optimizer> {
        self.optimizer.as_ref()
    }

    /// Mutable optimiser (callbacks change its learning rate).
    pub fn optimizer_mut(&mut self) -> Option<&mut Optimizer> {
        self.optimizer.as_mut()
    }

    /// The loss set by `compile`.
    pub fn loss(&self) -> Option<Loss> {
        self.loss
    }

    /// One gradient step on a batch; returns the loss at the pre-update weights
    /// (data loss + regularisation penalties, as Keras reports it).
    pub fn train_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<f32> {
        let (Some(loss), true) = (self.loss, self.optimizer.is_some()) else {
            return Err(Error::Config(
                "call compile(optimizer, loss) before training".into(),
            ));
        };
        let mut dy = std::mem::take(&mut self.dy);
        let pred = self.forward(x, true)?;
        let data_loss = loss.value_and_grad(pred, y, &mut dy)?;
        let reg = self.regularization_loss();
        self.zero_grad();
        let r = self.backward(x, &dy, false);
        self.dy = dy;
        r?;
        self.add_regularization_grads();
        let mut opt = self.optimizer.take().expect("checked above");
        let res = {
            let mut ps = self.params_mut();
            opt.apply(&mut ps)
        };
        self.optimizer = Some(opt);
        res?;
        Ok(data_loss + reg)
    }

    /// Loss on a batch in inference mode, without updating (Keras' `test_on_batch`).
    pub fn test_on_batch(&mut self, x: &Tensor, y: &Tensor) -> Result<f32> {
        let Some(loss) = self.loss else {
            return Err(Error::Config(
                "call compile(optimizer, loss) before evaluating".into(),
            ));
        };
        let pred = self.forward(x, false)?;
        let v = loss.value(pred, y)?;
        Ok(v + self.regularization_loss())
    }
}
