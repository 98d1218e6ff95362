//! `keras.callbacks.ModelCheckpoint`.

use std::path::{Path, PathBuf};

use super::{Callback, CallbackState, Control, Mode, Tracker};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::train::history::Logs;

/// A function that writes a model to a path (the native format's `save`, or
/// anything the caller chooses).
pub type SaveFn = Box<dyn FnMut(&Model, &Path) -> Result<()>>;

/// Saves the model at the end of every epoch, or only when the monitored value
/// improves (`keras.callbacks.ModelCheckpoint`: monitor `val_loss`, mode auto,
/// save_best_only false, initial_value_threshold none).
///
/// `filepath` may contain `{epoch}` (1-based, as Keras), `{epoch:03d}` and log
/// entries such as `{val_loss}` or `{val_loss:.4f}`.
///
/// ```
/// use lstmkit::train::ModelCheckpoint;
/// let ck = ModelCheckpoint::new("ckpt-{epoch:02d}-{val_loss:.3f}.lstmkit", Box::new(|_, _| Ok(())))
///     .save_best_only(true);
/// let mut logs = lstmkit::train::Logs::new();
/// logs.insert("val_loss".into(), 0.12345);
/// assert_eq!(ck.file_path(4, &logs).unwrap().to_str().unwrap(), "ckpt-05-0.123.lstmkit");
/// ```
pub struct ModelCheckpoint {
    /// Target path pattern.
    pub filepath: String,
    /// The log entry watched (with `save_best_only`).
    pub monitor: String,
    /// Save only when the monitored value improves.
    pub save_best_only: bool,
    /// Direction.
    pub mode: Mode,
    /// A value the first save must beat (Keras' `initial_value_threshold`).
    pub initial_value_threshold: Option<f64>,
    /// Print a line at each save.
    pub verbose: bool,
    save: SaveFn,
    t: Tracker,
    saved: Vec<PathBuf>,
}

impl ModelCheckpoint {
    /// A checkpoint writing to `filepath` with `save`.
    pub fn new(filepath: &str, save: SaveFn) -> Self {
        ModelCheckpoint {
            filepath: filepath.into(),
            monitor: "val_loss".into(),
            save_best_only: false,
            mode: Mode::Auto,
            initial_value_threshold: None,
            verbose: false,
            save,
            t: Tracker::new("ModelCheckpoint", "val_loss", 0.0),
            saved: Vec::new(),
        }
    }
    setters! {
        monitor: &str => String,
        save_best_only: bool,
        mode: Mode,
        initial_value_threshold: Option<f64>,
        verbose: bool,
    }
    /// Paths written so far, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }
    /// The best monitored value seen (with `save_best_only`).
    pub fn best(&self) -> Option<f64> {
        self.t.best
    }

    /// Expands the path pattern for `epoch` (0-based) and `logs`.
    pub fn file_path(&self, epoch: usize, logs: &Logs) -> Result<PathBuf> {
        let mut out = String::new();
        let mut rest = self.filepath.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err(Error::Config(format!(
                    "ModelCheckpoint filepath '{}': unclosed '{{'",
                    self.filepath
                )));
            };
            let field = &after[..close];
            let (name, spec) = match field.split_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (field, None),
            };
            let value = if name == "epoch" {
                (epoch + 1) as f64
            } else {
                *logs.get(name).ok_or_else(|| {
                    Error::Config(format!(
                        "ModelCheckpoint filepath '{}' names '{name}', which is not in the logs ({})",
                        self.filepath,
                        logs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?
            };
            out.push_str(&format_value(value, name == "epoch", spec).ok_or_else(|| {
                Error::Config(format!(
                    "ModelCheckpoint filepath '{}': unsupported format '{field}' (use {{name}}, {{name:.4f}} or {{epoch:03d}})",
                    self.filepath
                ))
            })?);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(PathBuf::from(out))
    }
}

/// Formats `{name}`, `{name:.Nf}`, `{epoch:0Nd}` / `{epoch:d}`.
fn format_value(v: f64, integer: bool, spec: Option<&str>) -> Option<String> {
    match spec {
        None => Some(if integer {
            format!("{}", v as i64)
        } else {
            format!("{v}")
        }),
        Some(s) => {
            if let Some(p) = s.strip_prefix('.').and_then(|r| r.strip_suffix('f')) {
                let p: usize = p.parse().ok()?;
                Some(format!("{v:.p$}"))
            } else if let Some(w) = s.strip_suffix('d') {
                let i = v as i64;
                if w.is_empty() {
                    return Some(format!("{i}"));
                }
                let zero = w.starts_with('0');
                let w: usize = w.parse().ok()?;
                Some(if zero {
                    format!("{i:0w$}")
                } else {
                    format!("{i:w$}")
                })
            } else {
                None
            }
        }
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        let resume = self
            .t
            .begin(&self.monitor, self.mode, 0.0, self.initial_value_threshold)?;
        self.saved.clear();
        if let Some(st) = resume {
            self.t.restore_best(&st)?;
        }
        Ok(())
    }

    fn resume_state(&self) -> Option<CallbackState> {
        Some(self.t.state(serde_json::json!({}), Vec::new()))
    }

    fn set_resume_state(&mut self, state: CallbackState) -> Result<()> {
        self.t.hold(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.t.resolve()?;
        let path = self.file_path(epoch, logs)?;
        let save = if self.save_best_only {
            match self.t.value(logs) {
                // Keras warns and saves when the monitored value is missing.
                None => true,
                Some(current) => {
                    if self.t.improves(current) {
                        if self.verbose {
                            println!(
                                "Epoch {}: {} improved to {current:.5}, saving model to {}",
                                epoch + 1,
                                self.monitor,
                                path.display()
                            );
                        }
                        self.t.best = Some(current);
                        true
                    } else {
                        if self.verbose {
                            println!("Epoch {}: {} did not improve", epoch + 1, self.monitor);
                        }
                        false
                    }
                }
            }
        } else {
            true
        };
        if save {
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() && !dir.exists() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
            }
            (self.save)(ctl.model, &path)?;
            self.saved.push(path);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::callbacks::test_util::{control, logs, model};

    #[test]
    fn checkpoint_best_only_and_formats() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let log: Rc<RefCell<Vec<String>>> = Rc::default();
        let l2 = log.clone();
        let mut ck = ModelCheckpoint::new(
            "ck-{epoch:02d}-{val_loss:.2f}",
            Box::new(move |_, p| {
                l2.borrow_mut().push(p.display().to_string());
                Ok(())
            }),
        )
        .save_best_only(true);
        let mut m = model();
        let mut ctl = control(&mut m, 4);
        ck.on_train_begin(&mut ctl).unwrap();
        for (e, v) in [0.5, 0.6, 0.25, 0.25].iter().enumerate() {
            let mut l = logs(*v);
            ck.on_epoch_end(e, &mut l, &mut ctl).unwrap();
        }
        assert_eq!(*log.borrow(), vec!["ck-01-0.50", "ck-03-0.25"]);
        assert_eq!(ck.saved().len(), 2);
        // every epoch without save_best_only
        let mut ck = ModelCheckpoint::new("x{epoch}", Box::new(|_, _| Ok(())));
        ck.on_train_begin(&mut ctl).unwrap();
        for e in 0..3 {
            ck.on_epoch_end(e, &mut logs(1.0), &mut ctl).unwrap();
        }
        assert_eq!(ck.saved().len(), 3);
        // bad patterns are errors naming the pattern
        let ck = ModelCheckpoint::new("x{nope}", Box::new(|_, _| Ok(())));
        let e = ck.file_path(0, &logs(1.0)).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        let ck = ModelCheckpoint::new("x{val_loss:e}", Box::new(|_, _| Ok(())));
        assert!(ck.file_path(0, &logs(1.0)).is_err());
    }
}
