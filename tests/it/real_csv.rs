//! Real-world CSV shapes end to end: `lstmkit train`, `evaluate` and
//! `forecast` on a file written the way spreadsheets and European locales
//! write them (BOM, CRLF, `;` with decimal commas, quoted names with spaces,
//! newest row first, a forecast period whose targets are empty) give the
//! same numbers as on the plain comma file, in original units.

use std::path::Path;

use lstmkit::cli::forecast::load_with_pipeline;
use lstmkit::data::load_csv;
use lstmkit::forecast::{forecast, Exog, ForecastOptions};

use crate::common::{bin, run, temp_dir};

/// Hourly "load" and "temp" rows: (time, load, temp).
fn rows(n: usize) -> Vec<(String, f64, f64)> {
    (0..n)
        .map(|i| {
            let (d, h) = (i / 24, i % 24);
            let t = format!("2021-03-{:02} {:02}:00:00", d + 1, h);
            let x = i as f64;
            let load =
                1.0e3 + 200.0 * (x * std::f64::consts::TAU / 24.0).sin() + 3.0 * (x * 0.7).cos();
            let temp = 10.0 + 5.0 * (x * std::f64::consts::TAU / 24.0 - 1.0).sin();
            (t, (load * 1e3).round() / 1e3, (temp * 1e3).round() / 1e3)
        })
        .collect()
}

fn plain(rows: &[(String, f64, f64)], empty_targets_from: usize) -> String {
    let mut s = String::from("time,load MW,temp\n");
    for (i, (t, l, c)) in rows.iter().enumerate() {
        let l = if i >= empty_targets_from {
            String::new()
        } else {
            l.to_string()
        };
        s.push_str(&format!("{t},{l},{c}\n"));
    }
    s
}

/// The same rows, newest first, `;`-separated with decimal commas, CRLF, a BOM,
/// quoted header names after spaces and trailing empty lines.
fn messy(rows: &[(String, f64, f64)], empty_targets_from: usize) -> String {
    let mut s = String::from("\u{feff}\"time\" ; \"load MW\" ; \"temp\"\r\n");
    for (i, (t, l, c)) in rows.iter().enumerate().rev() {
        let l = if i >= empty_targets_from {
            String::new()
        } else {
            l.to_string().replace('.', ",")
        };
        let c = c.to_string().replace('.', ",");
        s.push_str(&format!("{t} ; {l} ; \"{c}\"\r\n"));
    }
    s.push_str(" ; ; \r\n\r\n");
    s
}

fn experiment(dir: &Path, csv: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{csv}.toml"));
    std::fs::write(
        &p,
        format!(
            "[data]\npath = \"{csv}\"\ntime_column = \"time\"\ntarget = \"load MW\"\n\
             features = [\"load MW\", \"temp\"]\ntimesteps = 6\ndifference = 1\n\
             [[layers]]\ntype = \"lstm\"\nunits = 4\n[[layers]]\ntype = \"dense\"\nunits = 1\n\
             [fit]\nepochs = 1\nbatch_size = 16\n"
        ),
    )
    .unwrap();
    p
}

fn train(dir: &Path, config: &Path, out: &str) -> String {
    let o = run(bin()
        .args(["train", "--quiet", "--config"])
        .arg(config)
        .arg("--out")
        .arg(dir.join(out)));
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn forecast_cli(model: &Path, csv: &Path, steps: &str, exog: &str) -> String {
    let o = run(bin()
        .args(["forecast", "--model"])
        .arg(model)
        .arg("--data")
        .arg(csv)
        .args(["--steps", steps, "--exog", exog]));
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn messy_csv_trains_and_forecasts_like_the_plain_one() {
    let dir = temp_dir("real-csv");
    let all = rows(130);
    std::fs::write(dir.join("plain.csv"), plain(&all[..120], 120)).unwrap();
    std::fs::write(dir.join("messy.csv"), messy(&all[..120], 120)).unwrap();
    train(&dir, &experiment(&dir, "plain.csv"), "plain");
    let notes = train(&dir, &experiment(&dir, "messy.csv"), "messy");
    assert!(notes.contains("newest first"), "{notes}");
    // the same data: the same fitted pipeline and the same trained weights
    let (mut m_plain, p_plain) = load_with_pipeline(&dir.join("plain/model.lstmkit")).unwrap();
    let (m_messy, p_messy) = load_with_pipeline(&dir.join("messy/model.lstmkit")).unwrap();
    assert_eq!(p_plain.scaler, p_messy.scaler);
    assert_eq!(m_plain.get_weights(), m_messy.get_weights());
    let metrics = |d: &str| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(d).join("metrics.json")).unwrap())
                .unwrap();
        v["test"]["rmse"].as_f64().unwrap()
    };
    assert_eq!(metrics("plain"), metrics("messy"));

    // forecast with known future inputs: 10 more rows whose targets are empty
    std::fs::write(dir.join("plain_f.csv"), plain(&all, 120)).unwrap();
    std::fs::write(dir.join("messy_f.csv"), messy(&all, 120)).unwrap();
    let model = dir.join("messy/model.lstmkit");
    let a = forecast_cli(&model, &dir.join("plain_f.csv"), "10", "known");
    let b = forecast_cli(&model, &dir.join("messy_f.csv"), "10", "known");
    assert_eq!(a, b);
    let lines: Vec<&str> = a.lines().collect();
    assert_eq!(lines[0], "step,time,load MW");
    assert_eq!(lines.len(), 11);
    assert!(
        lines[1].starts_with("1,2021-03-06 00:00:00,"),
        "{}",
        lines[1]
    );
    // original units (load ~ 800..1200 MW, one step from the last level), and the library's numbers
    let frame = load_csv(dir.join("plain.csv"), &p_plain.csv_options()).unwrap();
    let f = forecast(
        &mut m_plain,
        &p_plain,
        &frame,
        &ForecastOptions::new(10).exog(Exog::Hold),
    )
    .unwrap();
    let last = all[119].1;
    let max_step = all
        .windows(2)
        .map(|w| (w[1].1 - w[0].1).abs())
        .fold(0.0, f64::max);
    assert!(
        (f.values[0] - last).abs() < 3.0 * max_step && f.values[0] > 500.0,
        "{} after {last} (steps up to {max_step})",
        f.values[0]
    );
    // hold: the time column continues at its step
    let h = forecast_cli(&model, &dir.join("messy.csv"), "3", "hold");
    let d = lstmkit::cli::forecast::data_decimals(frame.require("load MW").unwrap());
    assert_eq!(
        h,
        f.to_csv_with(Some(d))
            .lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    );
    assert!(h.contains("\n1,2021-03-06 00:00:00,"), "{h}");

    // evaluate re-scores the messy run with the same numbers
    let o = run(bin()
        .args(["evaluate", "--model"])
        .arg(&model)
        .arg("--config")
        .arg(dir.join("messy.csv.toml")));
    assert!(o.status.success());
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains(&format!("{:.4}", metrics("messy"))),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unsorted_times_are_an_error_naming_lines_repeats_a_note() {
    let dir = temp_dir("real-csv-order");
    let all = rows(60);
    let mut text = plain(&all, 60);
    // swap lines 11 and 12 (rows 9 and 10)
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.swap(10, 11);
    text = lines.join("\n") + "\n";
    std::fs::write(dir.join("swapped.csv"), &text).unwrap();
    let cfg = experiment(&dir, "swapped.csv");
    let o = bin()
        .args(["train", "--quiet", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("swapped.csv: line 12, column 'time'") && err.contains("line 11's"),
        "{err}"
    );
    assert!(!dir.join("o/model.lstmkit").exists());
    // a repeated time (line 12 repeats line 11) trains, with a note
    let mut lines: Vec<String> = plain(&all, 60).lines().map(String::from).collect();
    let t10 = lines[10].split(',').next().unwrap().to_string();
    let rest = lines[11].split_once(',').unwrap().1.to_string();
    lines[11] = format!("{t10},{rest}");
    std::fs::write(dir.join("swapped.csv"), lines.join("\n") + "\n").unwrap();
    let notes = train(&dir, &cfg, "dup");
    assert!(notes.contains("line 12 repeats line 11's"), "{notes}");
    std::fs::write(dir.join("swapped.csv"), &text).unwrap();
    // time_order = "sort" trains on the sorted rows
    let toml = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        toml.replace("[data]\n", "[data]\ntime_order = \"sort\"\n"),
    )
    .unwrap();
    train(&dir, &cfg, "o");
    assert!(dir.join("o/model.lstmkit").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
