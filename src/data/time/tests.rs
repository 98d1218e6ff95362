//! The calendar's tests: the cases of the two former time modules
//! (`data::time` and `forecast::time`, whose labellers this one replaces),
//! then month ends, leap years, weeks, quarters, date-times across midnight
//! and month ends, integers, and bad cells.

use super::*;

fn col(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| s.to_string()).collect()
}

#[test]
fn kinds_of_time_columns() {
    let k = |c: &[&str]| parse_time_column(&col(c));
    let day = 86_400i128 * 1_000_000_000;
    let v = k(&["2021-01-31", "2021-02-01"]).unwrap().unwrap();
    assert_eq!(v[1].0 - v[0].0, day);
    let v = k(&["2021-01-31T23:00", "2021-02-01 00:00:00.5"])
        .unwrap()
        .unwrap();
    assert_eq!(v[1].0 - v[0].0, 3_600_500_000_000);
    let v = k(&["2021-01", "2021-02"]).unwrap().unwrap();
    assert_eq!(v[1].0 - v[0].0, 31 * day);
    let v = k(&["31.01.2021", "01.02.2021"]).unwrap().unwrap();
    assert_eq!(v[1].0 - v[0].0, day);
    // month first unless a first field is above 12
    let v = k(&["01/02/2021", "01/03/2021"]).unwrap().unwrap();
    assert_eq!(v[1].0 - v[0].0, day);
    let v = k(&["01/11/2021", "01/12/2021", "01/01/2022"])
        .unwrap()
        .unwrap();
    assert_eq!(v[2].0 - v[1].0, 31 * day, "monthly, day first");
    let v = k(&["11/01/2021", "12/01/2021", "01/01/2022"])
        .unwrap()
        .unwrap();
    assert_eq!(v[2].0 - v[1].0, 31 * day, "monthly, month first");
    let v = k(&["01/02/2021", "13/02/2021"]).unwrap().unwrap();
    assert_eq!(v[1].0 - v[0].0, 12 * day);
    let v = k(&["2021-01-01T00:00:00Z", "2021-01-01T00:30:00+01:00"])
        .unwrap()
        .unwrap();
    assert_eq!(v[1].0 - v[0].0, -30 * 60 * 1_000_000_000);
    let v = k(&["1", "2", "10"]).unwrap().unwrap();
    assert!(v[2] > v[1]);
    assert_eq!(k(&["Jan 2021", "Feb 2021"]), Ok(None));
    assert_eq!(k(&["2021-01-01 noon", "2021-01-02 noon"]), Ok(None));
    let v = k(&["2020-01-01T07", "2020-01-01T08"]).unwrap().unwrap();
    assert_eq!(v[1].0 - v[0].0, 3_600_000_000_000);
    // a cell of another kind, or an impossible date
    assert_eq!(k(&["2021-01-01", "x"]), Err(1));
    assert_eq!(k(&["2021-01-01", "2021-02-30"]), Err(1));
    assert_eq!(k(&["2021-01-01", "2021-01-01 25:00"]), Err(1));
    assert_eq!(k(&["1", "2021-01-01"]), Err(1));
    assert_eq!(k(&["1", "1e300"]), Err(1));
    assert_eq!(k(&["-1e300", "1"]), Ok(None));
}

#[test]
fn future_labels_continue_the_column() {
    let f = |c: &[&str], n| future_labels(&col(c), n);
    assert_eq!(
        f(&["2021-01-30", "2021-01-31", "2021-02-01"], 2),
        Some(col(&["2021-02-02", "2021-02-03"]))
    );
    assert_eq!(
        f(
            &[
                "2021-12-31 22:00:00",
                "2021-12-31 23:00:00",
                "2022-01-01 00:00:00"
            ],
            2
        ),
        Some(col(&["2022-01-01 01:00:00", "2022-01-01 02:00:00"]))
    );
    assert_eq!(
        f(
            &["2021-01-01T00:00", "2021-01-01T00:15", "2021-01-01T00:30"],
            1
        ),
        Some(col(&["2021-01-01T00:45"]))
    );
    assert_eq!(
        f(&["2020-11-30", "2020-12-31", "2021-01-31"], 2),
        Some(col(&["2021-02-28", "2021-03-31"]))
    );
    assert_eq!(
        f(&["2020-11-01", "2020-12-01", "2021-01-01"], 2),
        Some(col(&["2021-02-01", "2021-03-01"]))
    );
    assert_eq!(
        f(&["2020-11", "2020-12", "2021-01"], 1),
        Some(col(&["2021-02"]))
    );
    assert_eq!(
        f(
            &[
                "2021-01-01 22:00:00+01:00",
                "2021-01-01 23:00:00+01:00",
                "2021-01-02 00:00:00+01:00"
            ],
            2
        ),
        Some(col(&[
            "2021-01-02 01:00:00+01:00",
            "2021-01-02 02:00:00+01:00"
        ]))
    );
    assert_eq!(
        f(
            &[
                "2021-01-01T23:30Z",
                "2021-01-01T23:45Z",
                "2021-01-02T00:00Z"
            ],
            1
        ),
        Some(col(&["2021-01-02T00:15Z"]))
    );
    assert_eq!(
        f(&["2020-01-01T22", "2020-01-01T23", "2020-01-02T00"], 1),
        Some(col(&["2020-01-02T01"]))
    );
    assert_eq!(
        f(&["01/10/2021", "01/11/2021", "01/12/2021"], 1),
        Some(col(&["01/01/2022"]))
    );
    assert_eq!(
        f(&["29.12.2021", "30.12.2021", "31.12.2021"], 1),
        Some(col(&["01.01.2022"]))
    );
    assert_eq!(
        f(&["1998", "1999", "2000"], 2),
        Some(col(&["2001", "2002"]))
    );
    assert_eq!(f(&["0.5", "1.0", "1.5"], 1), Some(col(&["2.0"])));
    // irregular end, text labels, too short (one row); two rows have one
    // interval, as `forecast::continue_times` had
    assert_eq!(f(&["1", "2", "4"], 1), None);
    assert_eq!(f(&["a", "b", "c"], 1), None);
    assert_eq!(f(&["1"], 1), None);
    assert_eq!(f(&["1", "2"], 1), Some(col(&["3"])));
}

// from forecast::time (continue_times)

#[test]
fn regular_spacings_continue() {
    assert_eq!(
        future_labels(&col(&["3", "5", "7"]), 2).unwrap(),
        ["9", "11"]
    );
    assert_eq!(
        future_labels(&col(&["2024-02-27", "2024-02-28", "2024-02-29"]), 2).unwrap(),
        ["2024-03-01", "2024-03-02"]
    );
    assert_eq!(
        future_labels(&col(&["2023-11-15", "2023-12-15"]), 2).unwrap(),
        ["2024-01-15", "2024-02-15"]
    );
    assert_eq!(
        future_labels(&col(&["2023-10", "2024-01"]), 1).unwrap(),
        ["2024-04"]
    );
    assert_eq!(
        future_labels(&col(&["2023-12-31", "2024-12-31"]), 1).unwrap(),
        ["2025-12-31"]
    );
    assert_eq!(
        future_labels(&col(&["2024-07-15", "2024-08-15", "2024-09-15"]), 1).unwrap(),
        ["2024-10-15"]
    );
    assert_eq!(
        future_labels(&col(&["2024-12-23", "2024-12-30"]), 1).unwrap(),
        ["2025-01-06"]
    );
    assert_eq!(
        future_labels(&col(&["2024-03-10 22:00", "2024-03-10 23:00"]), 2).unwrap(),
        ["2024-03-11 00:00", "2024-03-11 01:00"]
    );
    assert_eq!(
        future_labels(&col(&["2024-01-01T00:00:00Z", "2024-01-01T00:15:00Z"]), 1).unwrap(),
        ["2024-01-01T00:30:00Z"]
    );
}

#[test]
fn irregular_or_unknown_gives_none() {
    assert!(future_labels(&col(&["1", "2", "4"]), 1).is_none());
    assert!(future_labels(&col(&["2024-01-01", "2024-01-02", "2024-01-04"]), 1).is_none());
    assert!(future_labels(&col(&["a", "b"]), 1).is_none());
    assert!(future_labels(&col(&["2024-01-01"]), 1).is_none());
    assert!(future_labels(&col(&["5", "5"]), 1).is_none());
    assert!(future_labels(&col(&["01/02/2024", "01/03/2024"]), 1).is_none());
}

// the calendar

fn labels(c: &[&str], n: usize) -> Option<Vec<String>> {
    future_labels(&col(c), n)
}

fn step_of(c: &[&str]) -> Option<Step> {
    let c = TimeColumn::read(&col(c)).ok()??;
    c.format.step(&c.values)
}

#[test]
fn keys_count_from_1970() {
    let k = |c: &[&str]| parse_time_column(&col(c)).unwrap().unwrap();
    let day = 86_400 * 1_000_000_000i128;
    assert_eq!(k(&["1970-01-01"])[0].0, 0);
    assert_eq!(k(&["2000-03-01"])[0].0, 11_017 * day);
    assert_eq!(k(&["1969-12-31T23:00"])[0].0, -day / 24);
    assert_eq!(k(&["1998Q2"])[0], k(&["1998-04-01"])[0]);
    // whole numbers stay exact beyond f64's 2^53
    let v = k(&["999999999999999990", "999999999999999991"]);
    assert_eq!(v[1].0 - v[0].0, 1_000_000_000);
}

#[test]
fn month_ends_and_leap_years() {
    assert_eq!(
        step_of(&["2023-11-30", "2023-12-31", "2024-01-31"]),
        Some(Step::MonthEnds(1))
    );
    assert_eq!(
        labels(&["2023-11-30", "2023-12-31", "2024-01-31"], 2),
        Some(col(&["2024-02-29", "2024-03-31"]))
    );
    assert_eq!(
        labels(&["2022-11-30", "2022-12-31", "2023-01-31"], 1),
        Some(col(&["2023-02-28"]))
    );
    // yearly on the last day of February: month ends (the 29th in leap years)
    assert_eq!(
        labels(&["2021-02-28", "2022-02-28", "2023-02-28"], 2),
        Some(col(&["2024-02-29", "2025-02-28"]))
    );
    // the same day, on the last day of shorter months
    assert_eq!(
        step_of(&["2023-11-30", "2023-12-30"]),
        Some(Step::Months(1))
    );
    assert_eq!(
        labels(&["2023-11-30", "2023-12-30"], 3),
        Some(col(&["2024-01-30", "2024-02-29", "2024-03-30"]))
    );
    // quarterly month ends, written day first
    assert_eq!(
        labels(&["30.06.2023", "30.09.2023", "31.12.2023"], 2),
        Some(col(&["31.03.2024", "30.06.2024"]))
    );
    // days across the leap day; 1900 and 2100 are not leap years, 2000 is
    assert_eq!(
        labels(&["2024-02-27", "2024-02-28"], 2),
        Some(col(&["2024-02-29", "2024-03-01"]))
    );
    assert_eq!(
        labels(&["2100-02-27", "2100-02-28"], 1),
        Some(col(&["2100-03-01"]))
    );
    let read = |c: &[&str]| TimeColumn::read(&col(c)).map(|c| c.is_some());
    assert_eq!(read(&["2000-02-29"]), Ok(true));
    assert_eq!(
        read(&["1900-02-29"]),
        Ok(false),
        "an impossible first cell: labels"
    );
    assert_eq!(
        read(&["2024-02-28", "2023-02-29"]).map_err(|b| b.row),
        Err(1)
    );
}

#[test]
fn weeks_and_days() {
    assert_eq!(
        step_of(&["2024-12-16", "2024-12-23", "2024-12-30"]),
        Some(Step::Days(7))
    );
    assert_eq!(
        labels(&["2024-12-16", "2024-12-23", "2024-12-30"], 2),
        Some(col(&["2025-01-06", "2025-01-13"]))
    );
    assert_eq!(
        labels(&["23.12.2024", "30.12.2024"], 1),
        Some(col(&["06.01.2025"]))
    );
    assert_eq!(
        step_of(&["2024-01-01", "2024-01-04", "2024-01-07"]),
        Some(Step::Days(3))
    );
    // month first, shown by a day above 12; one digit where the column writes one
    assert_eq!(
        labels(&["12/30/2024", "12/31/2024"], 1),
        Some(col(&["01/01/2025"]))
    );
    assert_eq!(
        labels(&["1/30/2024", "1/31/2024"], 2),
        Some(col(&["2/1/2024", "2/2/2024"]))
    );
    assert_eq!(
        labels(&["2024/1/8", "2024/1/9"], 1),
        Some(col(&["2024/1/10"]))
    );
    // newest first (time_order = "file") continues backwards
    assert_eq!(
        labels(&["2024-01-03", "2024-01-02"], 1),
        Some(col(&["2024-01-01"]))
    );
}

#[test]
fn quarters_parse_step_and_label_alike() {
    assert_eq!(
        step_of(&["1998Q1", "1998Q2", "1998Q3"]),
        Some(Step::Quarters(1))
    );
    assert_eq!(
        labels(&["1998Q2", "1998Q3", "1998Q4"], 3),
        Some(col(&["1999Q1", "1999Q2", "1999Q3"]))
    );
    assert_eq!(
        labels(&["1998 Q3", "1998 Q4"], 2),
        Some(col(&["1999 Q1", "1999 Q2"]))
    );
    assert_eq!(
        labels(&["1998-Q1", "1998-Q3"], 2),
        Some(col(&["1999-Q1", "1999-Q3"]))
    );
    // in time order, and out of it
    let k = parse_time_column(&col(&["1998 Q4", "1999 Q1"]))
        .unwrap()
        .unwrap();
    assert!(k[0] < k[1]);
    assert_eq!(
        describe(&col(&["1998Q1"])),
        "a quarter like the first row's"
    );
    assert_eq!(parse_time_column(&col(&["1998Q1", "1998Q5"])), Err(1));
    assert_eq!(parse_time_column(&col(&["1998Q1", "1998-04-01"])), Err(1));
    // not quarters: labels
    assert_eq!(parse_time_column(&col(&["Q1", "Q2"])), Ok(None));
    assert_eq!(parse_time_column(&col(&["98Q1", "98Q2"])), Ok(None));
    assert_eq!(labels(&["1998Q1", "1998Q2", "1998Q4"], 1), None);
}

#[test]
fn date_times_across_midnight_and_month_ends() {
    assert_eq!(
        labels(
            &["2024-02-29 22:00", "2024-02-29 23:00", "2024-03-01 00:00"],
            2
        ),
        Some(col(&["2024-03-01 01:00", "2024-03-01 02:00"]))
    );
    assert_eq!(
        step_of(&["2024-02-29 22:00", "2024-02-29 23:00"]),
        Some(Step::Clock(3_600_000_000_000))
    );
    assert_eq!(
        labels(&["2023-12-31T23:00:00Z", "2023-12-31T23:30:00Z"], 2),
        Some(col(&["2024-01-01T00:00:00Z", "2024-01-01T00:30:00Z"]))
    );
    assert_eq!(
        labels(&["31.01.2024 23:00", "01.02.2024 00:00"], 1),
        Some(col(&["01.02.2024 01:00"]))
    );
    // fractions of a second, with a comma kept as written
    assert_eq!(
        labels(&["2024-01-31 23:59:59.750", "2024-01-31 23:59:59.875"], 1),
        Some(col(&["2024-02-01 00:00:00.000"]))
    );
    assert_eq!(
        labels(&["2024-01-31 23:59:59,5", "2024-02-01 00:00:00,0"], 1),
        Some(col(&["2024-02-01 00:00:00,5"]))
    );
    // 24:00 is the next day's 00:00
    assert_eq!(
        labels(&["2024-01-31 23:00", "2024-01-31 24:00"], 1),
        Some(col(&["2024-02-01 01:00"]))
    );
    // across a daylight-saving change: labelled in the last row's offset
    assert_eq!(
        labels(
            &[
                "2021-03-28 01:00:00+01:00",
                "2021-03-28 03:00:00+02:00",
                "2021-03-28 04:00:00+02:00"
            ],
            1
        ),
        Some(col(&["2021-03-28 05:00:00+02:00"]))
    );
    // the last cell cannot show the step: seconds after a cell written in minutes
    assert_eq!(
        labels(
            &[
                "2024-01-01 00:00:00",
                "2024-01-01 00:00:30",
                "2024-01-01 00:01"
            ],
            1
        ),
        None
    );
}

#[test]
fn integers_and_numbers() {
    assert_eq!(step_of(&["1998", "1999", "2000"]), Some(Step::Integer(1)));
    assert_eq!(labels(&["5", "3"], 2), Some(col(&["1", "-1"])));
    assert_eq!(labels(&["007", "008", "009"], 1), Some(col(&["010"])));
    assert_eq!(
        labels(&["999999999999999990", "999999999999999991"], 1),
        Some(col(&["999999999999999992"]))
    );
    assert_eq!(labels(&["0.25", "0.50", "0.75"], 1), Some(col(&["1.00"])));
    assert_eq!(step_of(&["0.25", "0.5", "0.75"]), Some(Step::Number(0.25)));
    assert_eq!(
        labels(&["1e9", "2e9", "3e9"], 1),
        None,
        "exponents are not rewritten"
    );
    assert_eq!(labels(&["1", "1"], 1), None, "no step");
}

#[test]
fn a_bad_cell_is_a_value_naming_its_row_and_text() {
    let bad = TimeColumn::read(&col(&["2021-01-01", "2021-01-02", "2021-13-01"])).unwrap_err();
    assert_eq!(
        bad,
        BadCell {
            row: 2,
            value: "2021-13-01".into(),
            expected: "a date like the first row's"
        }
    );
    assert_eq!(
        bad.to_string(),
        "row 3: '2021-13-01' is not a date like the first row's"
    );
    let bad = TimeColumn::read(&col(&["1", "2", "x"])).unwrap_err();
    assert_eq!(bad.to_string(), "row 3: 'x' is not a number");
    // read from a CSV, the note names the file's line and the cell
    let mut spec = crate::data::DataSpec::new("inline.csv", &["y"]);
    spec.time_column = Some("date".into());
    let text = "date,y\n2021-01-01,1\n2021-01-02,2\n2021-02-30,3\n2021-01-04,4\n";
    let f = crate::data::parse_csv(text, "inline.csv", &spec.csv_options()).unwrap();
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("inline.csv: line 4, column 'date': '2021-02-30' is not a date")),
        "{:?}",
        f.notes
    );
}

/// The calendar features of a column's cells.
fn calendar(cells: &[&str], f: CalendarFeature, enc: CalendarEncoding) -> Vec<Vec<f64>> {
    let c = TimeColumn::read(&col(cells)).unwrap().unwrap();
    c.values
        .iter()
        .map(|v| f.encode(v, enc, Some((2020.0, 2022.0))).unwrap())
        .collect()
}

#[test]
fn calendar_features_of_quarters_months_weeks_days_hours_and_half_hours() {
    use CalendarEncoding::{Cyclic, Onehot, Ordinal};
    use CalendarFeature::*;
    let hot = |v: &[f64]| v.iter().position(|&x| x == 1.0).unwrap();
    // quarters: the quarter, and its first month
    let q = calendar(&["1998Q3", "1998Q4", "1999Q1"], Quarter, Onehot);
    assert_eq!(q.iter().map(|v| hot(v)).collect::<Vec<_>>(), [2, 3, 0]);
    let m = calendar(&["1998 Q3", "1998 Q4"], Month, Ordinal);
    assert_eq!(m, [[6.0 / 11.0], [9.0 / 11.0]]);
    // months: cyclic month of December and January are neighbours
    let c = calendar(&["2021-12", "2022-01", "2022-06"], Month, Cyclic);
    let dist = |a: &[f64], b: &[f64]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    assert!(dist(&c[0], &c[1]) < dist(&c[1], &c[2]));
    assert!((c[1][0] - 0.0).abs() < 1e-12 && (c[1][1] - 1.0).abs() < 1e-12);
    // weeks (Saturdays) and days: the day of the week from Monday
    let w = calendar(&["2024-12-21", "2024-12-28"], Dayofweek, Onehot);
    assert_eq!((hot(&w[0]), hot(&w[1])), (5, 5));
    let d = calendar(
        &["2024-12-30", "2024-12-31", "2025-01-01"],
        Dayofweek,
        Ordinal,
    );
    assert_eq!(d, [[0.0], [1.0 / 6.0], [2.0 / 6.0]]);
    let y = calendar(&["2024-12-31", "2025-01-01"], Dayofyear, Onehot);
    assert_eq!((hot(&y[0]), hot(&y[1])), (365, 0));
    // hours, across midnight; half-hours differ in the cyclic and ordinal hour
    let h = calendar(&["2021-01-01 23:00", "2021-01-02 00:00"], Hour, Onehot);
    assert_eq!((hot(&h[0]), hot(&h[1])), (23, 0));
    let half = calendar(&["2021-01-01 10:00", "2021-01-01 10:30"], Hour, Ordinal);
    assert!((half[1][0] - half[0][0] - 0.5 / 23.0).abs() < 1e-12);
    let hc = calendar(&["2021-01-01 10:00", "2021-01-01 10:30"], Hour, Cyclic);
    assert_ne!(hc[0], hc[1]);
    assert_eq!(
        calendar(&["2021-01-01 10:00", "2021-01-01 10:30"], Hour, Onehot)[1][10],
        1.0
    );
    // the year, scaled over the training range (2020..2022)
    let yr = calendar(&["2021-01-01", "2022-01-01"], Year, Onehot);
    assert_eq!(yr, [[0.5], [1.0]]);
    // widths and names
    assert_eq!(Dayofyear.width(Onehot), 366);
    assert_eq!(Month.channel_names(Cyclic), ["month_sin", "month_cos"]);
    assert_eq!(Quarter.channel_names(Onehot)[0], "quarter=1");
    // numbers have no calendar
    let n = TimeColumn::read(&col(&["1", "2"])).unwrap().unwrap();
    assert!(Month.encode(&n.values[0], Cyclic, None).is_none());
    let all = encode_all(
        &[Month, Quarter],
        &TimeColumn::read(&col(&["2021-05-03"]))
            .unwrap()
            .unwrap()
            .values[0],
        Onehot,
        None,
    )
    .unwrap();
    assert_eq!(all.len(), 16);
}
