//! `lstmkit init --data CSV [--out EXP.toml]`: a commented starter
//! experiment for a CSV of one's own — its columns detected (the time column
//! and the numeric ones), the time step and a season guessed from the time
//! column, the seed's m1 model — that `lstmkit train --config` runs as it is.
//! The file is checked by the experiment reader before it is written.

use std::path::{Path, PathBuf};

use crate::data::time::{Step, TimeColumn};
use crate::data::{detect_delimiter, load_csv, CsvOptions, Fill};
use crate::error::{Error, Result};
use crate::experiment::Experiment;

/// Arguments of `lstmkit init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The CSV to start from (a header line naming the columns).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the experiment file (it must not exist yet).
    #[arg(long, default_value = "experiment.toml")]
    pub out: PathBuf,
}

/// What [`inspect`] found in a CSV.
#[derive(Debug, PartialEq)]
pub struct Found {
    /// The time column, when one of the columns reads as times.
    pub time_column: Option<String>,
    /// The numeric columns, in file order (the time column excluded).
    pub numeric: Vec<String>,
    /// The time step in words (`7 days`), when the time column is regular at its end.
    pub step: Option<String>,
    /// The season that step suggests (52 for weekly rows, 7 for daily, ...).
    pub season: Option<usize>,
    /// Data rows.
    pub rows: usize,
}

/// The header's names (quotes removed), for trying each as the time column.
fn header_names(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let mut first = lines.next().unwrap_or("");
    if first.trim_start().starts_with("sep=") {
        first = lines.next().unwrap_or("");
    }
    let d = detect_delimiter(first);
    first
        .split(d)
        .map(|c| c.trim().trim_matches('"').trim().to_string())
        .collect()
}

/// The season one step of this length suggests.
fn season_of(step: &Step) -> Option<(String, usize)> {
    const HOUR: i128 = 3_600_000_000_000;
    Some(match step {
        Step::Days(7) => ("7 days (weekly)".into(), 52),
        Step::Days(1) => ("1 day (daily)".into(), 7),
        Step::Months(1) | Step::MonthEnds(1) => ("1 month (monthly)".into(), 12),
        Step::Months(3) | Step::MonthEnds(3) | Step::Quarters(1) => {
            ("1 quarter (quarterly)".into(), 4)
        }
        Step::Clock(ns) if *ns > 0 && (24 * HOUR) % ns == 0 => {
            let per_day = (24 * HOUR / ns) as usize;
            (format!("{} minute(s)", ns / 60_000_000_000), per_day)
        }
        _ => return None,
    })
}

/// Reads `path` and finds its time column, numeric columns, step and season.
pub fn inspect(path: &Path) -> Result<Found> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let opts = |time: Option<&str>| CsvOptions {
        time_column: time.map(String::from),
        fill: Fill::Interpolate,
        ..CsvOptions::default()
    };
    for name in header_names(&text) {
        let Ok(frame) = load_csv(path, &opts(Some(&name))) else {
            continue;
        };
        let Some(cells) = frame.time.as_ref() else {
            continue;
        };
        let Ok(Some(tc)) = TimeColumn::read(cells) else {
            continue;
        };
        let n = tc.values.len();
        let step = tc
            .format
            .step(&tc.values[n.saturating_sub(3)..])
            .and_then(|s| season_of(&s));
        return Ok(Found {
            time_column: Some(name),
            numeric: frame.columns.clone(),
            step: step.as_ref().map(|(w, _)| w.clone()),
            season: step.map(|(_, s)| s),
            rows: frame.n_rows(),
        });
    }
    // no time column: every column must be numeric
    let frame = load_csv(path, &opts(None))?;
    Ok(Found {
        time_column: None,
        numeric: frame.columns.clone(),
        step: None,
        season: None,
        rows: frame.n_rows(),
    })
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The starter experiment for `found`, reading the CSV at `data_path`
/// (as written in the file: relative to the experiment's folder).
pub fn starter(found: &Found, data_path: &str) -> Result<String> {
    let Some(target) = found.numeric.first() else {
        return Err(Error::Data(format!(
            "{data_path}: no numeric column to predict"
        )));
    };
    let mut s = String::new();
    s.push_str(
        "# A starter experiment written by `lstmkit init`; every key is in docs/EXPERIMENT.md.\n",
    );
    s.push_str("# Run it with: lstmkit train --config THIS_FILE --out runs/first\n\n");
    s.push_str("[data]\n");
    s.push_str(&format!(
        "path = {}   # relative to this file\n",
        quoted(data_path)
    ));
    match &found.time_column {
        Some(t) => s.push_str(&format!(
            "time_column = {}   # orders the rows, labels plots and forecasts\n",
            quoted(t)
        )),
        None => s.push_str("# time_column = \"...\"   # no column of the file reads as times\n"),
    }
    let names: Vec<String> = found.numeric.iter().map(|c| quoted(c)).collect();
    s.push_str(&format!(
        "target = {}   # numeric columns: {}\n",
        quoted(target),
        names.join(", ")
    ));
    s.push_str(&format!(
        "features = [{}]   # the model's inputs (default: the targets)\n",
        quoted(target)
    ));
    s.push_str("timesteps = 10   # input rows per window\n");
    s.push_str("horizon = 1      # steps predicted at once\n");
    match (found.season, &found.step) {
        (Some(m), Some(step)) => s.push_str(&format!(
            "season = {m}      # rows one step apart: {step}; seasonal-naive baseline and MASE's scale\n"
        )),
        _ => s.push_str("# season = 12    # no regular time step found: set it for a seasonal baseline\n"),
    }
    s.push_str("scaler = \"minmax\"   # minmax | standard | none, fitted on the training rows\n");
    s.push_str(&format!(
        "test_split = 0.2       # the last 20% of the {} rows are the test part\n",
        found.rows
    ));
    s.push_str("validation_split = 0.2 # the last 20% of the training windows\n");
    s.push_str("# difference = 1       # train on changes (a trending series), report levels\n\n");
    s.push_str("[[layers]]\ntype = \"lstm\"\nunits = 50\nactivation = \"relu\"\n\n");
    s.push_str("[[layers]]\ntype = \"dense\"\nunits = 1   # horizon x targets\n\n");
    s.push_str("[compile]\noptimizer = \"adam\"\nlearning_rate = 0.001\nloss = \"mse\"\n\n");
    s.push_str("[fit]\nepochs = 100\nbatch_size = 32\nseed = 42\n\n");
    s.push_str("[callbacks.early_stopping]\nmonitor = \"val_loss\"\npatience = 10\nrestore_best_weights = true\n");
    Ok(s)
}

/// Runs the command.
pub fn run(a: InitArgs) -> Result<()> {
    if a.out.exists() {
        return Err(Error::Config(format!(
            "--out {}: the file exists; init writes a new experiment file only",
            a.out.display()
        )));
    }
    let found = inspect(&a.data)?;
    let folder = crate::experiment::base_dir_of(&a.out);
    let data_abs = std::path::absolute(&a.data).unwrap_or_else(|_| a.data.clone());
    let folder_abs = std::path::absolute(&folder).unwrap_or(folder);
    let rel = data_abs
        .strip_prefix(&folder_abs)
        .map(Path::to_path_buf)
        .unwrap_or(data_abs);
    let text = starter(&found, &rel.to_string_lossy())?;
    // what init writes, train reads
    Experiment::from_toml_str(&text, &a.out.display().to_string())?;
    crate::io::atomic_write_bytes(&a.out, text.as_bytes())?;
    eprintln!(
        "wrote {}: target {}{}{} ({} rows) — edit it, then `lstmkit train --config {}`",
        a.out.display(),
        found.numeric[0],
        found
            .time_column
            .as_ref()
            .map(|t| format!(", time column {t}"))
            .unwrap_or_default(),
        found
            .step
            .as_ref()
            .map(|s| format!(", step {s}, season {}", found.season.unwrap_or(0)))
            .unwrap_or_default(),
        found.rows,
        a.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_series_are_recognised() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let f = inspect(&root.join("data/co2_weekly.csv")).unwrap();
        assert_eq!(f.time_column.as_deref(), Some("date"));
        assert_eq!(f.numeric, vec!["co2"]);
        assert_eq!(
            (f.season, f.step.as_deref()),
            (Some(52), Some("7 days (weekly)"))
        );
        let text = starter(&f, "co2_weekly.csv").unwrap();
        let e = Experiment::from_toml_str(&text, "init.toml").unwrap();
        assert_eq!(e.data.season, Some(52));
        assert_eq!(e.data.target, vec!["co2"]);
        let f = inspect(&root.join("data/seattle_weather.csv")).unwrap();
        assert_eq!(f.time_column.as_deref(), Some("date"));
        assert!(f.numeric.len() >= 3, "{:?}", f.numeric);
        assert_eq!(f.season, Some(7));
    }

    #[test]
    fn steps_give_seasons() {
        assert_eq!(
            season_of(&Step::Clock(3_600_000_000_000)).map(|s| s.1),
            Some(24)
        );
        assert_eq!(season_of(&Step::Quarters(1)).map(|s| s.1), Some(4));
        assert_eq!(season_of(&Step::Integer(1)), None);
    }
}
