//! Tests of the CSV reader, through its entry points.

use super::*;

fn opts(cols: &[&str], fill: Fill) -> CsvOptions {
    CsvOptions {
        time_column: Some("t".into()),
        columns: cols.iter().map(|s| s.to_string()).collect(),
        fill,
        ..Default::default()
    }
}

#[test]
fn reads_selected_columns_and_time() {
    let f = parse_csv(
        "t,a,b\nx,1,2\ny,3,4\n",
        "f.csv",
        &opts(&["b", "a"], Fill::None),
    )
    .unwrap();
    assert_eq!(f.columns, vec!["b", "a"]);
    assert_eq!(f.data, vec![vec![2.0, 4.0], vec![1.0, 3.0]]);
    assert_eq!(f.time, Some(vec!["x".to_string(), "y".to_string()]));
    assert_eq!(f.n_rows(), 2);
    // Empty column list: every column but the time column.
    let f = parse_csv("t,a,b\nx,1,2\n", "f.csv", &opts(&[], Fill::None)).unwrap();
    assert_eq!(f.columns, vec!["a", "b"]);
}

#[test]
fn missing_cell_error_names_file_line_column() {
    err_says(
        "t,a,b\nx,1,2\ny,,4\n",
        &opts(&["a", "b"], Fill::None),
        &["f.csv", "line 3", "column 'a'", "missing"],
    );
}

#[test]
fn non_numeric_and_non_finite_errors() {
    for (cell, what) in [("abc", "'abc'"), ("inf", "'inf'"), ("NaN", "'NaN'")] {
        let text = format!("t,a\nx,1\ny,2\nz,{cell}\n");
        let e = parse_csv(&text, "data/f.csv", &opts(&["a"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("data/f.csv: line 4, column 'a'"), "{e}");
        assert!(e.contains(what), "{e}");
    }
    // Text that is not a gap stays an error with a fill method.
    err_says(
        "t,a\nx,1\ny,abc\n",
        &opts(&["a"], Fill::Ffill),
        &["line 3, column 'a'"],
    );
    err_says(
        "t,a\nx,1\ny,-inf\n",
        &opts(&["a"], Fill::Interpolate),
        &["line 3, column 'a'"],
    );
}

#[test]
fn line_numbers_count_skipped_blank_lines() {
    err_says(
        "t,a\nx,1\n\ny,2\nz,oops\n",
        &opts(&["a"], Fill::None),
        &["line 5"],
    );
}

#[test]
fn unknown_column_lists_available() {
    err_says(
        "t,a,b\nx,1,2\n",
        &opts(&["c"], Fill::None),
        &["f.csv", "'c'", "available columns: t, a, b"],
    );
    let mut o = opts(&["a"], Fill::None);
    o.time_column = Some("date".into());
    err_says("t,a,b\nx,1,2\n", &o, &["'date'", "available columns"]);
}

#[test]
fn empty_file_and_header_only() {
    err_says("", &opts(&[], Fill::None), &["f.csv", "empty"]);
    err_says(
        "t,a\n",
        &opts(&["a"], Fill::None),
        &["f.csv", "no data rows"],
    );
}

#[test]
fn a_file_without_header_names_columns_by_position() {
    err_says(
        "1.5,10\n2.5,20\n3.5,x\n",
        &cols(&["1"]),
        &["line 3, column '1': 'x'"],
    );
    let f = all("1.5,10\n2.5,20\n", cols(&["1", "0"])).unwrap();
    assert_eq!(f.data, vec![vec![10.0, 20.0], vec![1.5, 2.5]]);
    assert!(f.notes[0].contains("no header line"), "{:?}", f.notes);
    let f = all("5\n6\n", CsvOptions::default()).unwrap();
    assert_eq!(
        (f.columns.clone(), f.data[0].clone()),
        (vec!["0".to_string()], vec![5.0, 6.0])
    );
    err_says(
        "1,2\n3,4\n",
        &cols(&["y"]),
        &["available columns: 0, 1", "no header line"],
    );
    // a header of names is a header
    assert!(all("a,b\n1,2\n", cols(&["a"])).unwrap().notes.is_empty());
}

#[test]
fn space_aligned_columns() {
    assert_eq!(detect_delimiter("year   value\n1749   58.0\n"), ' ');
    assert_eq!(detect_delimiter("load MW\n1000.5\n"), ';');
    let text = "  year   spots \r\n 1749   58.0\r\n\r\n 1750\t 62.6 \r\n1751 x\r\n";
    err_says(
        text,
        &cols(&["spots"]).with_time("year"),
        &["line 5, column 'spots': 'x'"],
    );
    let f = all(
        &text.replace("1751 x", "1751 70"),
        cols(&["spots"]).with_time("year"),
    )
    .unwrap();
    assert_eq!(f.data[0], vec![58.0, 62.6, 70.0]);
    let mut o = cols(&["b"]);
    o.delimiter = Some(' ');
    assert_eq!(all("a b\n1  2\n", o).unwrap().data[0], vec![2.0]);
}

#[test]
fn a_trailing_delimiter_on_data_rows_is_accepted() {
    let f = all("t,a\n1,5,\n2,6,\n", cols(&["a"])).unwrap();
    assert_eq!(f.data[0], vec![5.0, 6.0]);
    err_says("t,a\n1,5,7\n", &cols(&["a"]), &["line 2: 3 fields"]);
}

#[test]
fn ragged_row_is_an_error() {
    err_says(
        "t,a,b\nx,1,2\ny,3\n",
        &opts(&["a"], Fill::None),
        &["line 3", "2 fields"],
    );
}

#[test]
fn interpolate_and_ffill() {
    let text = "t,a\n1,\n2,NA\n3,1\n4,\n5,\n6,4\n7,nan\n";
    let f = parse_csv(text, "f.csv", &opts(&["a"], Fill::Interpolate)).unwrap();
    assert_eq!(f.data[0], vec![1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
    assert_eq!(f.filled, vec![5]);
    let f = parse_csv(text, "f.csv", &opts(&["a"], Fill::Ffill)).unwrap();
    assert_eq!(f.data[0], vec![1.0, 1.0, 1.0, 1.0, 1.0, 4.0, 4.0]);
    err_says(
        "t,a\n1,\n2,\n",
        &opts(&["a"], Fill::Ffill),
        &["no value at all"],
    );
}

#[test]
fn bom_and_whitespace() {
    let f = parse_csv(
        "\u{feff}t, a\nx, 1.5 \n",
        "f.csv",
        &opts(&["a"], Fill::None),
    )
    .unwrap();
    assert_eq!(f.data[0], vec![1.5]);
}

#[test]
fn load_csv_reports_missing_file() {
    let e = load_csv("/nonexistent/x.csv", &opts(&["a"], Fill::None))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/x.csv"), "{e}");
}

fn all(text: &str, o: CsvOptions) -> Result<Frame> {
    parse_csv(text, "f.csv", &o)
}

/// The message of the error reading `text` as `f.csv`.
fn err(text: &str, o: &CsvOptions) -> String {
    parse_csv(text, "f.csv", o).unwrap_err().to_string()
}

/// Reading `text` as `f.csv` fails with a message that holds every one of `parts`.
fn err_says(text: &str, o: &CsvOptions, parts: &[&str]) {
    let e = err(text, o);
    for p in parts {
        assert!(e.contains(p), "{p:?} not in: {e}");
    }
}

fn cols(cols: &[&str]) -> CsvOptions {
    CsvOptions {
        columns: cols.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn delimiters_are_detected_or_given() {
    assert_eq!(detect_delimiter("a;b;c\n1;2;3\n"), ';');
    assert_eq!(detect_delimiter("a\tb\n"), '\t');
    assert_eq!(detect_delimiter("a|b\n"), '|');
    assert_eq!(detect_delimiter("\"x,y\";b\n"), ';');
    assert_eq!(detect_delimiter("value\n1\n"), ';');
    assert_eq!(detect_delimiter("value\n1;\n"), ',');
    for text in [
        "t;a;b\nx;1;2\ny;3;4\n",
        "t\ta\tb\nx\t1\t2\ny\t3\t4\n",
        "t|a|b\nx|1|2\ny|3|4\n",
    ] {
        let f = parse_csv(text, "f.csv", &opts(&["a", "b"], Fill::None)).unwrap();
        assert_eq!(f.data, vec![vec![1.0, 3.0], vec![2.0, 4.0]], "{text:?}");
    }
    // an explicit delimiter wins over detection
    let mut o = opts(&["a;b"], Fill::None);
    o.delimiter = Some(',');
    let f = parse_csv("t,a;b\nx,1\n", "f.csv", &o).unwrap();
    assert_eq!(f.data[0], vec![1.0]);
    // a wrong delimiter says what the header looked like
    let mut o = opts(&["a"], Fill::None);
    o.delimiter = Some(',');
    let e = err("t;a\nx;1\n", &o);
    assert!(e.contains("single field") && e.contains("delimiter"), "{e}");
}

#[test]
fn excel_sep_line_one_column_and_booleans() {
    let e = err(
        "sep=;\r\nt;a\r\n1;1,5\r\n2;x\r\n",
        &opts(&["a"], Fill::None),
    );
    assert!(e.contains("line 4, column 'a'"), "{e}");
    let e = err("t,a\r\n1,1\r\n2,x\r\n", &cols(&["a"]));
    assert!(e.contains("line 3, column 'a'"), "CRLF: {e}");
    let e = err("t,a\n1,1\n\n   \n2,x\n", &cols(&["a"]));
    assert!(e.contains("line 5, column 'a'"), "blank lines: {e}");
    let e = err("t,a\r\n1,1\r\n\r\n\r\n2,x\r\n", &cols(&["a"]));
    assert!(
        e.contains("line 5, column 'a'"),
        "CRLF and blank lines: {e}"
    );
    let e = err("t,a\r1,1\r2,x\r", &cols(&["a"]));
    assert!(e.contains("line 3, column 'a'"), "CR: {e}");
    let e = err("t,a\r\n1,1\r\n2,1,2\r\n", &cols(&["a"]));
    assert!(e.contains("line 3: 3 fields"), "CRLF ragged: {e}");
    let f = parse_csv("sep=;\nt;a\n1;1,5\n", "f.csv", &opts(&["a"], Fill::None)).unwrap();
    assert_eq!(f.data[0], vec![1.5]);
    let f = all("value\n1,5\n2\n", cols(&["value"])).unwrap();
    assert_eq!(f.data[0], vec![1.5, 2.0]);
    let f = all("a,flag\n1,True\n2,False\n", cols(&["flag"])).unwrap();
    assert_eq!(f.data[0], vec![1.0, 0.0]);
}

#[test]
fn decimal_comma_with_semicolons() {
    let f = parse_csv(
        "t;a\nx;1,5\ny;-2,25e1\nz;3\n",
        "f.csv",
        &opts(&["a"], Fill::None),
    )
    .unwrap();
    assert_eq!(f.data[0], vec![1.5, -22.5, 3.0]);
    // explicit decimal = "," refuses dots (thousands separators)
    let mut o = opts(&["a"], Fill::None);
    o.decimal = Some(',');
    let e = err("t;a\nx;1,5\ny;1.234,5\n", &o);
    assert!(
        e.contains("line 3, column 'a'") && e.contains("'1.234,5'"),
        "{e}"
    );
    o.delimiter = Some(',');
    assert!(parse_csv("t,a\nx,1\n", "f.csv", &o).is_err());
    // a quoted thousands separator in a comma file is an error with a hint
    err_says(
        "t,a\nx,\"1,234.5\"\n",
        &opts(&["a"], Fill::None),
        &["line 2, column 'a'", "thousands"],
    );
}

#[test]
fn quotes_spaces_crlf_and_number_spellings() {
    let text = "\u{feff}\"t\" ; \"Price \"\"USD\"\"\" ; \"n\"\r\n 1 ; \" 1.5e3 \" ; 1\r\n2;+2;\"2\"\r\n3 ; .5 ; 3\r\n\r\n";
    let f = parse_csv(text, "f.csv", &opts(&["Price \"USD\"", "n"], Fill::None)).unwrap();
    assert_eq!(f.data[0], vec![1500.0, 2.0, 0.5]);
    assert_eq!(f.data[1], vec![1.0, 2.0, 3.0]);
    assert_eq!(f.time.unwrap(), vec!["1", "2", "3"]);
    // a name differing in case is suggested
    err_says(
        "t,Close\n1,2\n",
        &opts(&["close"], Fill::None),
        &["did you mean 'Close'"],
    );
}

#[test]
fn pandas_missing_markers_and_index_column() {
    for m in [
        "", "NA", "NaN", "nan", "<NA>", "#N/A", "null", "None", "-nan", "-", ".",
    ] {
        let text = format!("t,a\n1,1\n2,{m}\n3,3\n");
        let e = err(&text, &opts(&["a"], Fill::None));
        assert!(
            e.contains("line 3, column 'a'") && e.contains("missing value"),
            "{m:?}: {e}"
        );
        let f = parse_csv(&text, "f.csv", &opts(&["a"], Fill::Interpolate)).unwrap();
        assert_eq!(f.data[0], vec![1.0, 2.0, 3.0], "{m:?}");
    }
    // pandas' to_csv index column (empty name) is not a data column
    let f = all(
        ",t,a\n0,1,5\n1,2,6\n",
        CsvOptions {
            time_column: Some("t".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f.columns, vec!["a"]);
}

#[test]
fn second_header_line_gets_a_hint() {
    let text = "Price,Close,Volume\nTicker,AAPL,AAPL\nDate,,\n2020-01-02,72.7,135480400\n";
    let o = cols(&["Close", "Volume"]).with_time("Price");
    err_says(
        text,
        &o,
        &["line 2, column 'Close': 'AAPL'", "second header"],
    );
    // a typo further down is just a typo
    let e = err("a,b\n1,2\n3,4\n5,x\n", &cols(&["a", "b"]));
    assert!(!e.contains("second header"), "{e}");
}

#[test]
fn trailing_empty_field_rows_are_blank_lines() {
    let f = all("t,a,b\n1,1,2\n2,3,4\n,,\n, ,\n", cols(&["a", "b"])).unwrap();
    assert_eq!(f.n_rows(), 2);
    // between data rows they are rows of missing cells
    err_says(
        "t,a\n1,1\n,\n3,3\n",
        &cols(&["a"]),
        &["line 3, column 'a'", "missing"],
    );
    let mut o = cols(&["a"]);
    o.fill = Fill::Interpolate;
    assert_eq!(
        all("t,a\n1,1\n,\n3,3\n", o).unwrap().data[0],
        vec![1.0, 2.0, 3.0]
    );
}

#[test]
fn time_order_newest_first_is_reversed() {
    let text = "date,a\n2021-01-03,3\n2021-01-02,\n2021-01-01,1\n";
    let f = parse_csv(text, "f.csv", &opts(&["a"], Fill::Ffill).with_time("date")).unwrap();
    assert_eq!(f.data[0], vec![1.0, 1.0, 3.0], "filled after reversing");
    assert_eq!(f.time.as_ref().unwrap()[0], "2021-01-01");
    assert_eq!(f.notes.len(), 1);
    assert!(f.notes[0].contains("newest first"), "{:?}", f.notes);
    // in order: nothing to say
    let f = parse_csv(
        "date,a\n2021-01-01,1\n2021-01-02,2\n",
        "f.csv",
        &opts(&["a"], Fill::None).with_time("date"),
    )
    .unwrap();
    assert!(f.notes.is_empty());
}

#[test]
fn time_order_errors_name_lines() {
    let o = opts(&["a"], Fill::None).with_time("date");
    err_says(
        "date,a\n2021-01-01,1\n2021-01-03,3\n2021-01-02,2\n2021-01-04,4\n",
        &o,
        &[
            "f.csv: line 4, column 'date'",
            "line 3's '2021-01-03'",
            "time_order = \"sort\"",
        ],
    );
    // repeated times are kept, with a note naming the lines
    let f = parse_csv("date,a\n1,1\n2,2\n2,3\n3,4\n", "f.csv", &o).unwrap();
    assert_eq!(f.data[0], vec![1.0, 2.0, 3.0, 4.0]);
    assert!(
        f.notes.len() == 1 && f.notes[0].contains("line 4 repeats line 3's '2'"),
        "{:?}",
        f.notes
    );
    // a cell that is not a date: the order is not checked, a note names it
    let f = parse_csv(
        "date,a\n2021-01-02,1\n2021-01-32,2\n2021-01-01,3\n",
        "f.csv",
        &o,
    )
    .unwrap();
    assert_eq!(f.data[0], vec![1.0, 2.0, 3.0]);
    assert!(
        f.notes.len() == 1 && f.notes[0].contains("line 3, column 'date': '2021-01-32'"),
        "{:?}",
        f.notes
    );
    // sort: stable sort by time; file: rows as they are
    let text = "date,a\n2021-01-01,1\n2021-01-03,3\n2021-01-02,2\n";
    let mut s = o.clone();
    s.time_order = TimeOrder::Sort;
    let f = parse_csv(text, "f.csv", &s).unwrap();
    assert_eq!(f.data[0], vec![1.0, 2.0, 3.0]);
    assert_eq!(f.notes.len(), 1);
    s.time_order = TimeOrder::File;
    let f = parse_csv(text, "f.csv", &s).unwrap();
    assert_eq!(f.data[0], vec![1.0, 3.0, 2.0]);
    // text labels are not checked
    let f = parse_csv("date,a\nb,1\na,2\n", "f.csv", &o).unwrap();
    assert_eq!(f.data[0], vec![1.0, 2.0]);
    // offsets: the same wall time in two offsets is not a repeat
    let f = parse_csv(
        "date,a\n2021-10-31T02:30:00+02:00,1\n2021-10-31T02:30:00+01:00,2\n",
        "f.csv",
        &o,
    )
    .unwrap();
    assert_eq!(f.n_rows(), 2);
}

/// An open tail of `rows` rows in column `y`.
fn open_y(rows: usize) -> Option<OpenTail> {
    Some(OpenTail {
        rows,
        columns: vec!["y".into()],
    })
}

#[test]
fn open_tail_allows_missing_future_targets() {
    let text = "t,y,x\n1,1,10\n2,2,20\n3,3,30\n4,,40\n5,,50\n";
    let mut o = opts(&["y", "x"], Fill::None);
    assert!(parse_csv(text, "f.csv", &o).is_err());
    o.open_tail = open_y(2);
    let f = parse_csv(text, "f.csv", &o).unwrap();
    assert_eq!(&f.data[0][..3], &[1.0, 2.0, 3.0]);
    assert!(f.data[0][3].is_nan() && f.data[0][4].is_nan());
    assert_eq!(f.data[1], vec![10.0, 20.0, 30.0, 40.0, 50.0]);
    // only the tail: a gap before it is still an error
    o.open_tail = open_y(1);
    err_says(text, &o, &["line 5, column 'y'"]);
    // a tail as long as the file leaves no history
    o.open_tail = open_y(5);
    err_says(text, &o, &["5 data rows, but the last 5"]);
    // exogenous columns are not open
    err_says(
        "t,y,x\n1,1,10\n2,2,\n",
        &CsvOptions {
            open_tail: open_y(1),
            ..opts(&["y", "x"], Fill::None)
        },
        &["line 3, column 'x'"],
    );
}

#[test]
fn not_utf8_names_the_line() {
    let dir = crate::test_tmp_root().join(format!("lstmkit-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("latin1.csv");
    std::fs::write(&p, b"t,a\n1,2\n2,caf\xe9\n").unwrap();
    let e = load_csv(&p, &opts(&["a"], Fill::None))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3") && e.contains("UTF-8"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

impl CsvOptions {
    fn with_time(mut self, t: &str) -> Self {
        self.time_column = Some(t.into());
        self
    }
}

#[test]
fn long_format_files_group_rows_by_series_each_in_time_order() {
    // interleaved series, one written newest first, one with a gap
    let text = "id,t,y\nb,2,20\na,1,1\nb,1,10\na,2,2\nc,1,100\na,3,\na,4,4\nc,2,200\n";
    let mut o = opts(&["y"], Fill::Interpolate);
    o.id_column = Some("id".into());
    let f = parse_csv(text, "p.csv", &o).unwrap();
    assert_eq!(f.id_column.as_deref(), Some("id"));
    assert_eq!(
        f.series,
        vec![
            ("b".to_string(), 0..2),
            ("a".to_string(), 2..6),
            ("c".to_string(), 6..8)
        ]
    );
    // series b reversed into time order; a's gap filled within a only
    assert_eq!(
        f.data[0],
        vec![10.0, 20.0, 1.0, 2.0, 3.0, 4.0, 100.0, 200.0]
    );
    assert_eq!(
        f.time.as_ref().unwrap()[..2],
        ["1".to_string(), "2".to_string()]
    );
    assert!(
        f.notes.iter().any(|n| n.contains("series 'b'")),
        "{:?}",
        f.notes
    );
    // the id column is not a numeric column
    o.columns.clear();
    assert_eq!(parse_csv(text, "p.csv", &o).unwrap().columns, ["y"]);
    // a trailing gap is filled from its own series, never from the next one
    let text2 = "id,t,y\na,1,1\na,2,\nb,1,50\nb,2,60\n";
    let mut o2 = opts(&["y"], Fill::Ffill);
    o2.id_column = Some("id".into());
    assert_eq!(
        parse_csv(text2, "p.csv", &o2).unwrap().data[0],
        vec![1.0, 1.0, 50.0, 60.0]
    );
    // rows out of order within a series name it; an empty id names the line
    let mut o3 = opts(&["y"], Fill::None);
    o3.id_column = Some("id".into());
    err_says(
        "id,t,y\na,1,1\na,3,3\na,2,2\nb,1,1\n",
        &o3,
        &["series 'a'", "line 4"],
    );
    err_says(
        "id,t,y\na,1,1\n,2,2\n",
        &o3,
        &["line 3", "id column is empty"],
    );
    // an open tail is the last rows of every series
    o3.open_tail = open_y(1);
    let f = parse_csv("id,t,y\na,1,1\na,2,\nb,1,5\nb,2,\n", "p.csv", &o3).unwrap();
    assert!(f.data[0][1].is_nan() && f.data[0][3].is_nan());
    err_says(
        "id,t,y\na,1,1\na,2,\nb,1,\n",
        &o3,
        &["series 'b'", "no history row"],
    );
}
