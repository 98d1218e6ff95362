//! A fitted [`Pipeline`] applied to arrays instead of CSV rows: what
//! `lstmkit predict` does with a model file that carries its pipeline.
//!
//! The input array holds windows of **original-unit** rows, shape
//! `(samples, timesteps + difference, features)` in the pipeline's feature
//! order (with `difference = 1` one row more than the model takes: the row
//! before the first change). [`Pipeline::inputs_from_levels`] differences and
//! scales them into the model's inputs; [`Pipeline::outputs_to_levels`] turns
//! the model's outputs back into original-unit levels, the same layout
//! (`(samples, horizon × targets)`, step-major). With `difference = 1` the
//! level a change is added to is the target's value in the window's last row,
//! so every target must be one of the input features.
//!
//! ```
//! use lstmkit::data::{prepare_frame, DataSpec, Frame};
//! let y: Vec<f64> = (0..60).map(|i| 300.0 + i as f64).collect();
//! let frame = Frame::from_columns("inline", vec![("y".to_string(), y)]).unwrap();
//! let mut spec = DataSpec::new("inline", &["y"]);
//! spec.timesteps = 4;
//! let p = prepare_frame(&spec, frame).unwrap().pipeline;
//! let x = lstmkit::Tensor::new(&[1, 4, 1], vec![310.0, 311.0, 312.0, 313.0]).unwrap();
//! let scaled = p.inputs_from_levels(&x).unwrap();
//! assert!(scaled.data.iter().all(|v| (0.0..=0.5).contains(v)));
//! // a model that returns its last scaled input: back in ppm
//! let pred = lstmkit::Tensor::new(&[1, 1], vec![scaled.data[3]]).unwrap();
//! let levels = p.outputs_to_levels(&x, &pred).unwrap();
//! assert!((levels.data[0] - 313.0).abs() < 1e-3);
//! ```

use super::Pipeline;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Pipeline {
    /// The shape of one input sample in original units: `[timesteps +
    /// difference, features]`.
    pub fn level_input_shape(&self) -> [usize; 2] {
        [self.window.timesteps + self.difference, self.features.len()]
    }

    /// Checks that `x` holds windows of original-unit rows this pipeline reads.
    fn check_levels(&self, x: &Tensor) -> Result<()> {
        let [rows, nf] = self.level_input_shape();
        if x.ndim() != 3 || x.shape[1] != rows || x.shape[2] != nf {
            return Err(Error::Shape(format!(
                "the array has shape {:?}, but windows of original-unit rows for this model are \
                 (samples, {rows}, {nf}): {} row(s){} of the feature(s) {}",
                x.shape,
                rows,
                if self.difference == 1 {
                    format!(
                        " (timesteps {} + 1: the model reads first differences)",
                        self.window.timesteps
                    )
                } else {
                    String::new()
                },
                self.features.join(", ")
            )));
        }
        if self.difference == 1 {
            if let Some(t) = (0..self.n_targets()).find(|&t| self.target_feature_index(t).is_none())
            {
                return Err(Error::Config(format!(
                    "the model predicts changes of '{}', which is not one of its inputs, so an array \
                     of inputs cannot give the level to add them to: use `lstmkit forecast` with \
                     the CSV, or --scaled for the model's own units",
                    self.targets[t]
                )));
            }
        }
        Ok(())
    }

    /// Model inputs (differenced when the pipeline differences, scaled) from
    /// windows of original-unit rows `x` (see the module documentation).
    pub fn inputs_from_levels(&self, x: &Tensor) -> Result<Tensor> {
        self.check_levels(x)?;
        let (n, rows, nf) = (x.shape[0], x.shape[1], x.shape[2]);
        let ts = self.window.timesteps;
        let d = self.difference;
        let mut out = Vec::with_capacity(n * ts * nf);
        for s in 0..n {
            let at = |r: usize, c: usize| x.data[(s * rows + r) * nf + c] as f64;
            for r in d..rows {
                for c in 0..nf {
                    let v = if d == 1 {
                        at(r, c) - at(r - 1, c)
                    } else {
                        at(r, c)
                    };
                    out.push(self.scaler.transform(c, v) as f32);
                }
            }
        }
        Tensor::new(&[n, ts, nf], out)
    }

    /// Original-unit levels of the model's outputs `pred` on the windows of
    /// original-unit rows `x` it was given (through
    /// [`Pipeline::inputs_from_levels`]); the shape of `pred`.
    pub fn outputs_to_levels(&self, x: &Tensor, pred: &Tensor) -> Result<Tensor> {
        self.check_levels(x)?;
        let n = x.shape[0];
        let w = self.output_width();
        let nt = self.n_targets();
        if pred.len() != n * w {
            return Err(Error::Shape(format!(
                "predictions of shape {:?} for {n} windows of {w} outputs (horizon {} x {nt} targets)",
                pred.shape, self.window.horizon
            )));
        }
        let (rows, nf) = (x.shape[1], x.shape[2]);
        let mut out = Vec::with_capacity(pred.len());
        let mut cum = vec![0.0f64; nt];
        for s in 0..n {
            cum.iter_mut().for_each(|c| *c = 0.0);
            for k in 0..self.window.horizon {
                for (t, c) in cum.iter_mut().enumerate() {
                    let v = self.scaler.inverse_transform(
                        self.target_scaler_column(t),
                        pred.data[s * w + k * nt + t] as f64,
                    );
                    let level = match self.target_feature_index(t) {
                        Some(f) if self.difference == 1 => {
                            *c += v;
                            x.data[(s * rows + rows - 1) * nf + f] as f64 + *c
                        }
                        _ => v,
                    };
                    out.push(level as f32);
                }
            }
        }
        Tensor::new(&pred.shape, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::data::{prepare_frame, DataSpec, Frame};
    use crate::tensor::Tensor;

    fn pipeline(difference: usize, features: &[&str]) -> crate::data::Pipeline {
        let y: Vec<f64> = (0..80).map(|i| 100.0 + 2.0 * i as f64).collect();
        let x: Vec<f64> = (0..80).map(|i| (i as f64 * 0.5).sin()).collect();
        let frame = Frame::from_columns("inline", vec![("y".to_string(), y), ("x".to_string(), x)])
            .unwrap();
        let mut spec = DataSpec::new("inline", &["y"]);
        spec.features = Some(features.iter().map(|s| s.to_string()).collect());
        spec.timesteps = 3;
        spec.horizon = 2;
        spec.difference = difference;
        prepare_frame(&spec, frame).unwrap().pipeline
    }

    #[test]
    fn levels_round_trip_through_scaling_and_differencing() {
        // the windows the CSV path makes equal the ones made from the same rows as an array
        let p = pipeline(1, &["y", "x"]);
        let rows: Vec<f32> = (0..4)
            .flat_map(|i| [100.0 + 2.0 * i as f32, (i as f32 * 0.5).sin()])
            .collect();
        let x = Tensor::new(&[1, 4, 2], rows).unwrap();
        let m = p.inputs_from_levels(&x).unwrap();
        assert_eq!(m.shape, vec![1, 3, 2]);
        // every change of y is 2: one scaled value, repeated
        let y0 = p.scaler.transform(0, 2.0) as f32;
        assert!(
            m.data.iter().step_by(2).all(|v| (*v - y0).abs() < 1e-6),
            "{m:?}"
        );
        // outputs "change 2, then 2": levels 108, 110 after the last row's 106
        let c = p.scaler.transform(p.target_scaler_column(0), 2.0) as f32;
        let pred = Tensor::new(&[1, 2], vec![c, c]).unwrap();
        let lv = p.outputs_to_levels(&x, &pred).unwrap();
        assert!(
            (lv.data[0] - 108.0).abs() < 1e-3 && (lv.data[1] - 110.0).abs() < 1e-3,
            "{lv:?}"
        );
    }

    #[test]
    fn wrong_shapes_and_unrecoverable_levels_are_errors() {
        let p = pipeline(1, &["y", "x"]);
        let e = p
            .inputs_from_levels(&Tensor::zeros(&[2, 3, 2]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(samples, 4, 2)") && e.contains("timesteps 3 + 1"),
            "{e}"
        );
        let p = pipeline(1, &["x"]);
        let e = p
            .inputs_from_levels(&Tensor::zeros(&[2, 4, 1]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'y'") && e.contains("--scaled"), "{e}");
        // without differencing, a target that is no feature is fine
        let p = pipeline(0, &["x"]);
        let x = Tensor::zeros(&[2, 3, 1]);
        let m = p.inputs_from_levels(&x).unwrap();
        let lv = p.outputs_to_levels(&x, &Tensor::zeros(&[2, 2])).unwrap();
        assert_eq!(
            (m.shape.clone(), lv.shape.clone()),
            (vec![2, 3, 1], vec![2, 2])
        );
        assert!(p.outputs_to_levels(&x, &Tensor::zeros(&[2, 3])).is_err());
    }
}
