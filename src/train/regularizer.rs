//! Weight penalties with Keras' formulas: `l1·Σ|x| + l2·Σx²` (no ½).

use crate::error::{Error, Result};

/// A Keras regulariser (`L1`, `L2`, `L1L2`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Regularizer {
    /// L1 factor.
    pub l1: f32,
    /// L2 factor.
    pub l2: f32,
}

impl Regularizer {
    /// `keras.regularizers.L1(l1)` (Keras' default 0.01).
    pub fn l1(l1: f32) -> Self {
        Regularizer { l1, l2: 0.0 }
    }
    /// `keras.regularizers.L2(l2)` (Keras' default 0.01).
    pub fn l2(l2: f32) -> Self {
        Regularizer { l1: 0.0, l2 }
    }
    /// `keras.regularizers.L1L2(l1, l2)`.
    pub fn l1_l2(l1: f32, l2: f32) -> Self {
        Regularizer { l1, l2 }
    }

    /// The penalty added to the loss.
    pub fn penalty(&self, w: &[f32]) -> f32 {
        let mut a = 0.0f64;
        let mut b = 0.0f64;
        for &x in w {
            a += x.abs() as f64;
            b += (x as f64) * (x as f64);
        }
        (self.l1 as f64 * a + self.l2 as f64 * b) as f32
    }

    /// Adds d(penalty)/dw into `grad`.
    pub fn add_grad(&self, w: &[f32], grad: &mut [f32]) {
        for (g, &x) in grad.iter_mut().zip(w) {
            let s = if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            };
            *g += self.l1 * s + 2.0 * self.l2 * x;
        }
    }

    /// Reads a Keras config: `{"class_name": "L2", "config": {"l2": 0.01}}`,
    /// or a bare string `"l2"` (Keras' defaults), or null.
    pub fn from_keras(v: &serde_json::Value) -> Result<Option<Self>> {
        use serde_json::Value;
        match v {
            Value::Null => Ok(None),
            Value::String(s) => match s.to_lowercase().as_str() {
                "l1" => Ok(Some(Regularizer::l1(0.01))),
                "l2" => Ok(Some(Regularizer::l2(0.01))),
                "l1_l2" | "l1l2" => Ok(Some(Regularizer::l1_l2(0.01, 0.01))),
                other => Err(Error::Config(format!("unknown regularizer '{other}'"))),
            },
            Value::Object(o) => {
                let class = o.get("class_name").and_then(|c| c.as_str()).unwrap_or("");
                let cfg = o.get("config").cloned().unwrap_or(Value::Null);
                let get = |k: &str| cfg.get(k).and_then(|x| x.as_f64()).map(|x| x as f32);
                match class {
                    "L1" => Ok(Some(Regularizer::l1(get("l1").unwrap_or(0.01)))),
                    "L2" => Ok(Some(Regularizer::l2(get("l2").unwrap_or(0.01)))),
                    "L1L2" => Ok(Some(Regularizer::l1_l2(
                        get("l1").unwrap_or(0.0),
                        get("l2").unwrap_or(0.0),
                    ))),
                    "" => {
                        // our own short form {"l1": .., "l2": ..}
                        let l1 = o.get("l1").and_then(|x| x.as_f64()).unwrap_or(0.0) as f32;
                        let l2 = o.get("l2").and_then(|x| x.as_f64()).unwrap_or(0.0) as f32;
                        Ok(Some(Regularizer::l1_l2(l1, l2)))
                    }
                    other => Err(Error::Config(format!("unsupported regularizer '{other}'"))),
                }
            }
            other => Err(Error::Config(format!("bad regularizer {other}"))),
        }
    }

    /// The Keras config form.
    pub fn to_keras(&self) -> serde_json::Value {
        if self.l1 == 0.0 {
            serde_json::json!({"class_name": "L2", "config": {"l2": self.l2}})
        } else if self.l2 == 0.0 {
            serde_json::json!({"class_name": "L1", "config": {"l1": self.l1}})
        } else {
            serde_json::json!({"class_name": "L1L2", "config": {"l1": self.l1, "l2": self.l2}})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keras_formula_and_gradient() {
        let w = [1.0f32, -2.0, 0.5];
        let r = Regularizer::l1_l2(0.1, 0.01);
        let p = r.penalty(&w);
        assert!((p - (0.1 * 3.5 + 0.01 * 5.25)).abs() < 1e-7);
        let mut g = [0.0f32; 3];
        r.add_grad(&w, &mut g);
        // finite differences
        for i in 0..3 {
            let mut wp = w;
            let mut wm = w;
            wp[i] += 1e-3;
            wm[i] -= 1e-3;
            let fd = (r.penalty(&wp) - r.penalty(&wm)) / 2e-3;
            assert!((fd - g[i]).abs() < 1e-3, "{i}: {fd} vs {}", g[i]);
        }
    }
    #[test]
    fn parses_keras_configs() {
        let v = serde_json::json!({"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.02}});
        assert_eq!(
            Regularizer::from_keras(&v).unwrap(),
            Some(Regularizer::l2(0.02))
        );
        assert_eq!(
            Regularizer::from_keras(&serde_json::Value::Null).unwrap(),
            None
        );
        assert!(Regularizer::from_keras(&serde_json::json!({"class_name": "Orthogonal"})).is_err());
    }
}
