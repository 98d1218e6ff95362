//! Pipeline tests, including the reference numbers of `../shared/bench/common.py`.

use super::*;
use crate::eval::{baselines, evaluate, evaluate_levels, metrics};

fn co2_spec() -> DataSpec {
    let mut s = DataSpec::new("bundled:co2", &["co2"]);
    s.time_column = Some("date".into());
    s
}

fn weather_spec() -> DataSpec {
    let mut s = DataSpec::new("bundled:seattle_weather", &["temp_max"]);
    s.time_column = Some("date".into());
    s.features = Some(vec![
        "temp_max".into(),
        "temp_min".into(),
        "precipitation".into(),
    ]);
    s
}

fn sum64(t: &Tensor) -> f64 {
    t.data.iter().map(|&v| v as f64).sum()
}

#[test]
fn bundled_data_is_the_shared_file() {
    let f = parse_csv(bundled_co2(), "bundled:co2", &co2_spec().csv_options()).unwrap();
    assert_eq!(f.n_rows(), 2284);
    assert_eq!(f.time.as_ref().unwrap()[0], "1958-03-29");
    assert_eq!(f.data[0][0], 316.1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = ["../shared/data", "../../shared/data"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.exists());
    match shared {
        Some(dir) => {
            for (file, text) in [
                ("co2_weekly.csv", bundled_co2()),
                ("seattle_weather.csv", bundled_seattle_weather()),
            ] {
                assert_eq!(std::fs::read_to_string(dir.join(file)).unwrap(), text);
            }
        }
        None => println!("skipped comparison with ../shared/data: not present"),
    }
}

#[test]
fn co2_split_matches_reference() {
    // common.py: n_rows 2284, n_train_rows 1827, X_train (1817, 10, 1), X_test (447, 10, 1).
    let p = prepare(&co2_spec(), Path::new(".")).unwrap();
    assert_eq!(p.n_rows, 2284);
    assert_eq!(p.n_train_rows, 1827);
    assert_eq!(p.train.x.shape, vec![1817, 10, 1]);
    assert_eq!(p.train.y.shape, vec![1817, 1]);
    assert_eq!(p.test.x.shape, vec![447, 10, 1]);
    assert!(p.val.is_empty());
    // Scaler fitted on the 1827 training rows only: min 313.0, max 360.2.
    let s = &p.pipeline.scaler;
    assert_eq!(s.transform(0, 313.0), 0.0);
    assert!((s.transform(0, 360.2) - 1.0).abs() < 1e-12);
    // Values as common.py gives them (float32 windows of float64-scaled rows).
    let f = |v: &[f32]| v.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    assert_eq!(
        f(&p.test.x.data[..2]),
        [0.9766949415206909, 0.9703390002250671]
    );
    assert_eq!(
        f(&p.test.y.data[..3]),
        [0.9936440587043762, 0.9809321761131287, 0.9766949415206909]
    );
    assert_eq!(
        f(&p.train.x.data[p.train.x.len() - 1..]),
        [0.9555084705352783]
    );
    assert_eq!(
        f(&p.train.y.data[p.train.y.len() - 1..]),
        [0.9703390002250671]
    );
    assert!((sum64(&p.train.x) - 7861.951274725143).abs() < 1e-6);
    assert!((sum64(&p.test.x) - 4867.372878432274).abs() < 1e-6);
    assert!((sum64(&p.test.y) - 487.9788134098053).abs() < 1e-6);
    // First test target: row 1827 + 10; anchors are original rows.
    assert_eq!(p.test.anchors[0], 1827 + 9);
    assert_eq!(p.test_truth[0], p.frame.data[0][1837]);
    assert_eq!(
        p.test_times.as_ref().unwrap()[0],
        p.frame.time.as_ref().unwrap()[1837]
    );
    assert_eq!(p.test_times.as_ref().unwrap().len(), 447);

    // Keras' validation_split = 0.2: last 20% of the 1817 windows, floor(1817 * 0.8) = 1453.
    let mut spec = co2_spec();
    spec.validation_split = 0.2;
    let p2 = prepare(&spec, Path::new(".")).unwrap();
    assert_eq!(p2.train.len(), 1453);
    assert_eq!(p2.val.len(), 364);
    assert_eq!(p2.val.x.shape, vec![364, 10, 1]);
    assert_eq!(&p2.train.x.data[..], &p.train.x.data[..1453 * 10]);
    assert_eq!(&p2.val.y.data[..], &p.train.y.data[1453..]);
    assert_eq!(p2.val.anchors[0], 1453 + 9);
}

#[test]
fn naive_rmse_matches_reference_co2() {
    let p = prepare(&co2_spec(), Path::new(".")).unwrap();
    let ev = evaluate_levels(&p, &baselines::naive_for(&p).unwrap()).unwrap();
    let rmse = ev.baselines.naive.overall.rmse;
    println!(
        "CO2 naive on {} test windows: RMSE {rmse:.6} ppm, MAE {:.6}, R2 {:.6}",
        ev.n_test_windows, ev.baselines.naive.overall.mae, ev.baselines.naive.overall.r2
    );
    // ../shared/bench/README.md: naive RMSE 0.513 ppm.
    assert_eq!(format!("{rmse:.3}"), "0.513");
    assert!((rmse - 0.5131819411261349).abs() < 1e-9);
    assert!((ev.baselines.naive.overall.mae - 0.40402684563758384).abs() < 1e-9);
    // Scoring the naive forecast as "the model" gives the same numbers.
    assert_eq!(ev.test, ev.baselines.naive);
    // Last-value forecast as model outputs: X_test[:, -1, 0] (common.py's naive).
    let last: Vec<f32> = p.test.x.data.chunks(10).map(|w| w[9]).collect();
    let ev2 = evaluate(&p, &Tensor::new(&[447, 1], last).unwrap()).unwrap();
    assert!((ev2.test.overall.rmse - rmse).abs() < 1e-4);
}

#[test]
fn naive_rmse_matches_reference_weather() {
    let p = prepare(&weather_spec(), Path::new(".")).unwrap();
    // common.py: 1461 rows, 1168 train, X_train (1158, 10, 3), X_test (283, 10, 3).
    assert_eq!((p.n_rows, p.n_train_rows), (1461, 1168));
    assert_eq!(p.train.x.shape, vec![1158, 10, 3]);
    assert_eq!(p.test.x.shape, vec![283, 10, 3]);
    // common.py's float32 values, printed as float64 (exact).
    let x0: Vec<f64> = p.test.x.data[..6].iter().map(|&v| v as f64).collect();
    assert_eq!(
        x0,
        [
            0.4166666567325592,
            0.6496062874794006,
            0.3142329156398773,
            0.3279569745063782,
            0.5196850299835205,
            1.0332716703414917
        ]
    );
    let y0: Vec<f64> = p.test.y.data[..3].iter().map(|&v| v as f64).collect();
    assert_eq!(
        y0,
        [0.3870967626571655, 0.4301075339317322, 0.5967742204666138]
    );
    assert!((sum64(&p.train.x) - 12906.710715673864).abs() < 1e-6);
    assert!((sum64(&p.test.x) - 3638.275431137532).abs() < 1e-6);
    assert!((sum64(&p.test.y) - 156.74462345987558).abs() < 1e-6);
    let ev = evaluate_levels(&p, &baselines::naive_for(&p).unwrap()).unwrap();
    let rmse = ev.baselines.naive.overall.rmse;
    println!("Seattle temp_max naive: RMSE {rmse:.6} degC");
    assert_eq!(format!("{rmse:.3}"), "3.091");
    assert!((rmse - 3.0908790932200167).abs() < 1e-9);
}

#[test]
fn differencing_round_trip_and_alignment() {
    let mut spec = co2_spec();
    spec.difference = 1;
    spec.horizon = 3;
    spec.validation_split = 0.1;
    let p = prepare(&spec, Path::new(".")).unwrap();
    let lv = &p.frame.data[0];
    // The training part loses row 0: 1826 differences → 1826 - 13 + 1 windows.
    assert_eq!(p.train.len() + p.val.len(), 1826 - 13 + 1);
    assert_eq!(p.test.len(), 457 - 13 + 1);
    assert_eq!(p.train.anchors[0], 10);
    // Inputs and targets are scaled differences.
    let s = &p.pipeline.scaler;
    let d = |r: usize| s.transform(0, lv[r] - lv[r - 1]) as f32;
    assert_eq!(p.train.x.data[0], d(1));
    assert_eq!(p.train.y.data[..3], [d(11), d(12), d(13)]);
    // The scaler is fitted on the training differences.
    let diffs: Vec<f64> = (1..1827).map(|r| lv[r] - lv[r - 1]).collect();
    let max = diffs.iter().copied().fold(f64::MIN, f64::max);
    assert!((s.transform(0, max) - 1.0).abs() < 1e-12);
    // Scaled truths map back to levels (level = previous level + cumulative change).
    for w in [&p.train, &p.val, &p.test] {
        let back = p.to_original_units_for(w, &w.y).unwrap();
        let truth = p.truth_for(w).unwrap();
        let err = back
            .iter()
            .zip(&truth)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-4, "max error {err}");
    }
    assert_eq!(p.test_truth[..3], [lv[1837], lv[1838], lv[1839]]);
    // Zero predicted change = the naive forecast.
    let zero_change = vec![s.transform(0, 0.0) as f32; p.test.len() * 3];
    let zero = Tensor::new(&[p.test.len(), 3], zero_change).unwrap();
    let levels = p.to_original_units(&zero).unwrap();
    let naive = baselines::naive_for(&p).unwrap();
    for (a, b) in levels.iter().zip(&naive) {
        assert!((a - b).abs() < 1e-5);
    }
}

#[test]
fn to_original_units_checks_shape_and_accepts_3d() {
    let mut spec = co2_spec();
    spec.horizon = 2;
    let p = prepare(&spec, Path::new(".")).unwrap();
    let n = p.test.len();
    let y3 = p.test.y.reshaped(&[n, 2, 1]).unwrap();
    assert_eq!(
        p.to_original_units(&y3).unwrap(),
        p.to_original_units(&p.test.y).unwrap()
    );
    let bad = Tensor::zeros(&[n, 1]);
    let e = p.to_original_units(&bad).unwrap_err().to_string();
    assert!(e.contains("horizon 2"), "{e}");
}

#[test]
fn multi_target_features_not_including_target() {
    let mut spec = weather_spec();
    spec.target = vec!["temp_max".into(), "wind".into()];
    spec.horizon = 2;
    spec.scaler = ScalerName::Standard;
    let p = prepare(&spec, Path::new(".")).unwrap();
    assert_eq!(p.pipeline.scaler.columns.len(), 4);
    assert_eq!(p.pipeline.target_scaler_column(1), 3);
    assert_eq!(p.pipeline.target_feature_index(0), Some(0));
    assert_eq!(p.pipeline.target_feature_index(1), None);
    assert_eq!(p.test.y.shape, vec![p.test.len(), 4]);
    let a = p.test.anchors[0];
    let f = &p.frame;
    let tm = f.column("temp_max").unwrap();
    let wi = f.column("wind").unwrap();
    assert_eq!(
        p.test_truth[..4],
        [tm[a + 1], wi[a + 1], tm[a + 2], wi[a + 2]]
    );
    let back = p.to_original_units(&p.test.y).unwrap();
    for (x, y) in back.iter().zip(&p.test_truth) {
        assert!((x - y).abs() < 1e-5);
    }
    let ev = evaluate(&p, &p.test.y).unwrap();
    assert_eq!(ev.test.per_target.len(), 2);
    assert_eq!(ev.test.per_target[1].target, "wind");
    assert_eq!(ev.test.per_target[1].per_step.len(), 2);
    assert!(ev.test.overall.rmse < 1e-5);
}

#[test]
fn seasonal_baseline_and_mase() {
    let mut spec = co2_spec();
    spec.season = Some(52);
    let p = prepare(&spec, Path::new(".")).unwrap();
    let ev = evaluate_levels(&p, &baselines::naive_for(&p).unwrap()).unwrap();
    let sn = ev.baselines.seasonal_naive.as_ref().unwrap();
    let lv = &p.frame.data[0];
    let a = p.test.anchors[0];
    let f = baselines::seasonal_naive_for(&p, 52).unwrap();
    assert_eq!(f[0], lv[a + 1 - 52]);
    assert_eq!(sn.overall.n, 447);
    // MASE scale: seasonal naive on the training rows, m = 52.
    let scale = metrics::naive_scale(&lv[..1827], 52).unwrap();
    let mase = ev.test.overall.mae / scale;
    assert!((ev.test.overall.mase.unwrap() - mase).abs() < 1e-12);
    assert_eq!(ev.mase_m, 52);
    let json = serde_json::to_value(&ev).unwrap();
    assert!(json["test"]["rmse"].is_number());
    assert!(json["baselines"]["naive"]["r2"].is_number());
    assert!(json["baselines"]["seasonal_naive"]["mae"].is_number());
    assert_eq!(json["n_test_windows"], 447);
}

#[test]
fn latest_windows_match_the_last_test_windows() {
    for difference in [0, 1] {
        let mut spec = weather_spec();
        spec.difference = difference;
        let p = prepare(&spec, Path::new(".")).unwrap();
        let n = p.n_rows;
        let w = p.pipeline.latest_windows(&p.frame, 2).unwrap();
        assert_eq!(w.x.shape, vec![2, 10, 3]);
        assert_eq!(w.anchors, vec![n - 2, n - 1]);
        // The window anchored at n - 2 is the last test window.
        let last = p.test.len() - 1;
        assert_eq!(p.test.anchors[last], n - 2);
        assert_eq!(&w.x.data[..30], &p.test.x.data[last * 30..]);
        // Forecast outputs map to levels from the anchor.
        let pred = Tensor::new(&[2, 1], vec![p.test.y.data[last], 0.5]).unwrap();
        let lv = p.pipeline.to_levels(&p.frame, &w.anchors, &pred).unwrap();
        assert!((lv[0] - p.test_truth[last]).abs() < 1e-4);
    }
    let p = prepare(&co2_spec(), Path::new(".")).unwrap();
    let short = Frame::from_columns("short", vec![("co2".into(), vec![1.0; 5])]).unwrap();
    let e = p
        .pipeline
        .latest_windows(&short, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("5 rows") && e.contains("timesteps 10"), "{e}");
}

#[test]
fn too_short_errors_state_the_numbers() {
    let frame =
        Frame::from_columns("tiny", vec![("y".into(), (0..20).map(f64::from).collect())]).unwrap();
    let mut spec = DataSpec::new("tiny", &["y"]);
    spec.timesteps = 15;
    spec.horizon = 2;
    let e = prepare_frame(&spec, frame.clone()).unwrap_err().to_string();
    assert!(e.contains("tiny"), "{e}");
    assert!(e.contains("16 of 20 rows"), "{e}");
    assert!(
        e.contains("timesteps (15)") && e.contains("horizon (2)"),
        "{e}"
    );
    spec.timesteps = 5;
    let e = prepare_frame(&spec, frame.clone()).unwrap_err().to_string();
    assert!(e.contains("test part too short: 4 of 20 rows"), "{e}");
    assert!(e.contains("timesteps (5)") && e.contains("= 7 rows"), "{e}");
    // No test part at all is allowed.
    spec.test_split = 0.0;
    let p = prepare_frame(&spec, frame.clone()).unwrap();
    assert_eq!(p.test.x.shape, vec![0, 5, 1]);
    assert_eq!(p.train.len(), 20 - 7 + 1);
    // windows over too few rows (evaluate on a short test part): the file and rows
    let e = p
        .pipeline
        .windows(&p.frame, 14..20, 1)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tiny: rows 14..20") && e.contains("6 rows"),
        "{e}"
    );
    assert!(evaluate(&p, &Tensor::zeros(&[0, 2])).is_err());
    // validation_split leaving an empty side is an error (Keras' rule).
    spec.validation_split = 0.95; // floor(14 * 0.05) = 0 training windows
    let e = prepare_frame(&spec, frame).unwrap_err().to_string();
    assert!(e.contains("14 training windows"), "{e}");
}

#[test]
fn spec_from_toml_and_validation() {
    let toml_text = r#"
        path = "co2_weekly.csv"        # relative to this file
        time_column = "date"
        target = "co2"                 # or a list of targets
        features = ["co2"]             # default: the targets
        timesteps = 10
        horizon = 1
        scaler = "minmax"
        test_split = 0.2
        validation_split = 0.2
    "#;
    let spec: DataSpec = toml::from_str(toml_text).unwrap();
    assert_eq!(spec.target, vec!["co2"]);
    assert_eq!(
        spec.resolved_path(Path::new("/cfg")),
        Path::new("/cfg/co2_weekly.csv")
    );
    let mut s2 = spec.clone();
    s2.path = PathBuf::from("../shared/data");
    // Prepared from the real file relative to a base dir.
    s2.path = PathBuf::from("co2_weekly.csv");
    let p = prepare(&s2, &Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    assert_eq!((p.train.len(), p.val.len(), p.test.len()), (1453, 364, 447));
    assert!(p.describe().contains("2284 rows"));

    let spec: DataSpec = toml::from_str(
        r#"path = "x.csv"
           target = ["a", "b"]
           scaler = "standard"
           feature_range = [-1, 1]
           fill = "interpolate"
           difference = 1
           season = 7"#,
    )
    .unwrap();
    assert_eq!(spec.target, vec!["a", "b"]);
    assert_eq!(spec.feature_range, (-1.0, 1.0));
    assert_eq!(spec.fill, Fill::Interpolate);
    assert_eq!(spec.scaler_kind(), ScalerKind::Standard);
    assert_eq!(spec.columns(), vec!["a", "b"]);
    let e = toml::from_str::<DataSpec>("path = \"x\"\ntarget = \"a\"\ntimestep = 3")
        .unwrap_err()
        .to_string();
    assert!(e.contains("timestep"), "{e}");
    let e = toml::from_str::<DataSpec>("path = \"x\"\ntarget = \"a\"\nscaler = \"robust\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("robust"), "{e}");
    for (field, bad) in [
        ("difference", 2.0),
        ("test_split", 1.0),
        ("validation_split", -0.1),
    ] {
        let mut s = DataSpec::new("x", &["a"]);
        match field {
            "difference" => s.difference = bad as usize,
            "test_split" => s.test_split = bad,
            _ => s.validation_split = bad,
        }
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    let e = prepare(&DataSpec::new("bundled:nope", &["a"]), Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope"), "{e}");
    let mut s = co2_spec();
    s.target = vec!["co3".into()];
    let e = prepare(&s, Path::new(".")).unwrap_err().to_string();
    assert!(e.contains("'co3'") && e.contains("date, co2"), "{e}");
}

#[test]
fn pipeline_serde_round_trip() {
    let p = prepare(&weather_spec(), Path::new(".")).unwrap();
    let json = serde_json::to_string(&p.pipeline).unwrap();
    let back: Pipeline = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p.pipeline);
    let spec_json = serde_json::to_string(&p.spec).unwrap();
    let spec_back: DataSpec = serde_json::from_str(&spec_json).unwrap();
    assert_eq!(spec_back, p.spec);
}

#[test]
fn csv_format_keys_parse_and_old_files_still_load() {
    let spec: DataSpec = toml::from_str(
        r#"path = "x.csv"
           target = "y"
           delimiter = "tab"
           decimal = ","
           time_order = "sort""#,
    )
    .unwrap();
    assert_eq!(spec.delimiter, Some('\t'));
    assert_eq!(spec.decimal, Some(','));
    assert_eq!(spec.time_order, TimeOrder::Sort);
    let o = spec.csv_options();
    assert_eq!(
        (o.delimiter, o.decimal, o.time_order),
        (Some('\t'), Some(','), TimeOrder::Sort)
    );
    for (text, want) in [
        ("\";\"", ';'),
        ("\"\\t\"", '\t'),
        ("'\\t'", '\t'),
        ("\"semicolon\"", ';'),
        ("\"|\"", '|'),
    ] {
        let s: DataSpec =
            toml::from_str(&format!("path = \"x\"\ntarget = \"y\"\ndelimiter = {text}")).unwrap();
        assert_eq!(s.delimiter, Some(want), "{text}");
    }
    let e = toml::from_str::<DataSpec>("path = \"x\"\ntarget = \"y\"\ndelimiter = \"tabs\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("delimiter") && e.contains("semicolon"), "{e}");
    // defaults are not written: files saved before these keys existed compare equal
    let plain = DataSpec::new("x.csv", &["y"]);
    let js = serde_json::to_value(&plain).unwrap();
    for k in ["delimiter", "decimal", "time_order"] {
        assert!(js.get(k).is_none(), "{k} written: {js}");
    }
    let p = prepare(&co2_spec(), Path::new(".")).unwrap();
    let js = serde_json::to_value(&p.pipeline).unwrap();
    assert!(js.get("time_order").is_none() && js.get("delimiter").is_none());
    let back: Pipeline = serde_json::from_value(js).unwrap();
    assert_eq!(back, p.pipeline);
}

#[test]
fn prepare_reads_a_semicolon_file_newest_first_like_the_plain_one() {
    let dir = crate::test_tmp_root().join(format!("lstmkit-data-semi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut plain = String::from("date,co2\n");
    let mut semi = Vec::new();
    for line in bundled_co2().lines().skip(1).take(200) {
        let (d, v) = line.split_once(',').unwrap();
        plain.push_str(&format!("{d},{v}\n"));
        semi.push(format!("{d};{}", v.replace('.', ",")));
    }
    semi.reverse();
    std::fs::write(dir.join("plain.csv"), &plain).unwrap();
    std::fs::write(
        dir.join("semi.csv"),
        format!("\u{feff}date;co2\r\n{}\r\n", semi.join("\r\n")),
    )
    .unwrap();
    let mut spec = co2_spec();
    spec.timesteps = 5;
    spec.path = "plain.csv".into();
    let a = prepare(&spec, &dir).unwrap();
    spec.path = "semi.csv".into();
    let b = prepare(&spec, &dir).unwrap();
    assert_eq!(a.pipeline.scaler, b.pipeline.scaler);
    assert_eq!(a.train.x, b.train.x);
    assert_eq!(a.test.y, b.test.y);
    assert_eq!(a.test_times, b.test_times);
    assert!(a.frame.notes.is_empty());
    assert_eq!(b.frame.notes.len(), 1, "{:?}", b.frame.notes);
    let _ = std::fs::remove_dir_all(&dir);
}
