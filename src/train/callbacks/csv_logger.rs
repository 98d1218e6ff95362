//! `keras.callbacks.CSVLogger`.

use std::io::Write;
use std::path::PathBuf;

use super::{Callback, Control};
use crate::error::{Error, Result};
use crate::train::history::Logs;

/// Streams each epoch's logs to a CSV file (`keras.callbacks.CSVLogger`:
/// separator `,`, append false). Columns: `epoch`, then the log keys sorted
/// (`learning_rate`, `loss`, `val_loss`); each row is flushed at once.
pub struct CsvLogger {
    /// Output file.
    pub filename: PathBuf,
    /// Field separator.
    pub separator: char,
    /// Append to an existing file (no second header when it is not empty).
    pub append: bool,
    file: Option<std::io::BufWriter<std::fs::File>>,
    keys: Option<Vec<String>>,
    header: bool,
}

impl CsvLogger {
    /// A logger writing to `filename`.
    pub fn new(filename: impl Into<PathBuf>) -> Self {
        CsvLogger {
            filename: filename.into(),
            separator: ',',
            append: false,
            file: None,
            keys: None,
            header: true,
        }
    }
    setters! {
        separator: char,
        append: bool,
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        let path = &self.filename;
        self.header = true;
        let f = if self.append {
            if let Ok(m) = std::fs::metadata(path) {
                self.header = m.len() == 0;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        } else {
            std::fs::File::create(path)
        }
        .map_err(|e| Error::io(path, e))?;
        self.file = Some(std::io::BufWriter::new(f));
        self.keys = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, _ctl: &mut Control) -> Result<()> {
        let sep = self.separator.to_string();
        let keys: &[String] = self.keys.get_or_insert_with(|| {
            let mut keys: Vec<String> = logs.keys().cloned().collect();
            if !keys.iter().any(|k| k.starts_with("val_")) && !keys.is_empty() {
                let vals: Vec<String> = keys.iter().map(|k| format!("val_{k}")).collect();
                keys.extend(vals);
            }
            keys
        });
        let Some(f) = self.file.as_mut() else {
            return Err(Error::Other("CSVLogger used before on_train_begin".into()));
        };
        let path = &self.filename;
        let mut line = String::new();
        if self.header {
            line.push_str("epoch");
            for k in keys {
                line.push_str(&sep);
                line.push_str(k);
            }
            line.push('\n');
            self.header = false;
        }
        line.push_str(&epoch.to_string());
        for k in keys {
            line.push_str(&sep);
            match logs.get(k) {
                Some(v) => line.push_str(&v.to_string()),
                None => line.push_str("NA"),
            }
        }
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|_| f.flush())
            .map_err(|e| Error::io(path, e))
    }

    fn on_train_end(&mut self, _logs: &Logs, _ctl: &mut Control) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| Error::io(&self.filename, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::callbacks::test_util::{control, logs, model};

    #[test]
    fn csv_logger_writes_and_appends() {
        let dir = crate::test_tmp_root().join(format!("lstmkit-csvlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.csv");
        let mut m = model();
        let mut ctl = control(&mut m, 2);
        let mut c = CsvLogger::new(&path);
        c.on_train_begin(&mut ctl).unwrap();
        for e in 0..2 {
            let mut l = logs(0.5 / (e + 1) as f64);
            l.insert("learning_rate".into(), 0.001);
            c.on_epoch_end(e, &mut l, &mut ctl).unwrap();
        }
        c.on_train_end(&Logs::new(), &mut ctl).unwrap();
        let s = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            s,
            "epoch,learning_rate,loss,val_loss\n0,0.001,0.5,0.5\n1,0.001,0.25,0.25\n"
        );
        // append: no second header
        let mut c = CsvLogger::new(&path).append(true);
        c.on_train_begin(&mut ctl).unwrap();
        let mut l = logs(0.1);
        l.insert("learning_rate".into(), 0.001);
        c.on_epoch_end(2, &mut l, &mut ctl).unwrap();
        c.on_train_end(&Logs::new(), &mut ctl).unwrap();
        let s = std::fs::read_to_string(&path).unwrap();
        assert_eq!(s.lines().count(), 4);
        assert!(s.ends_with("2,0.001,0.1,0.1\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
