//! `docs/EXPERIMENT.md` against the types that read an experiment file, both
//! ways: every key each table's type declares (serde's field names), every
//! layer type of `nn::LAYERS` with its options, every `[tune]` key and search
//! space form is documented in its section, and every key documented there
//! exists. A key added to a spec type without its line in the page fails here.

use std::collections::BTreeSet;

use lstmkit::data::DataSpec;
use lstmkit::experiment::{
    CallbacksSpec, CheckpointSpec, CompileSpec, CsvLoggerSpec, EarlyStoppingSpec, Experiment,
    FitSpec, LayerSpec, ReduceLrSpec, TerminateOnNanSpec,
};
use lstmkit::nn::config::field_names;

const DOC: &str = include_str!("../../docs/EXPERIMENT.md");

/// The text of the section whose heading line is exactly `heading`, up to
/// the next heading of the same or a higher level.
fn section(heading: &str) -> &'static str {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let start = DOC
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/EXPERIMENT.md has no '{heading}'"))
        + heading.len()
        + 2;
    let rest = &DOC[start..];
    let end = rest
        .lines()
        .scan(0usize, |at, l| {
            let here = *at;
            *at += l.len() + 1;
            Some((here, l))
        })
        .find(|(_, l)| {
            let h = l.chars().take_while(|c| *c == '#').count();
            h > 0 && h <= level && l.chars().nth(h) == Some(' ')
        })
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// The first-column keys (`` `key` ``) of the tables in a section.
fn table_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(String::from)
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_table_and_key_is_documented_and_every_documented_key_exists() {
    let tables: Vec<(&str, BTreeSet<String>)> = vec![
        ("## [data]", set(field_names::<DataSpec>())),
        ("## [compile]", set(field_names::<CompileSpec>())),
        ("## [fit]", set(field_names::<FitSpec>())),
        (
            "## [callbacks.early_stopping]",
            set(field_names::<EarlyStoppingSpec>()),
        ),
        (
            "## [callbacks.reduce_lr_on_plateau]",
            set(field_names::<ReduceLrSpec>()),
        ),
        (
            "## [callbacks.model_checkpoint]",
            set(field_names::<CheckpointSpec>()),
        ),
        (
            "## [callbacks.csv_logger]",
            set(field_names::<CsvLoggerSpec>()),
        ),
        (
            "## [callbacks.terminate_on_nan]",
            set(field_names::<TerminateOnNanSpec>()),
        ),
        ("## [tune]", set(&lstmkit::tune::settings::KEYS)),
        (
            "## [intervals]",
            set(field_names::<lstmkit::intervals::IntervalSpec>()),
        ),
    ];
    for (heading, want) in &tables {
        let got = table_keys(section(heading));
        assert_eq!(&got, want, "{heading}: documented keys vs the type's");
    }
    // every table of the file has its section, every callback too
    for t in field_names::<Experiment>() {
        let heading = if *t == "layers" {
            "## [[layers]]".to_string()
        } else {
            format!("## [{t}]")
        };
        if *t != "callbacks" {
            section(&heading);
        }
    }
    for c in field_names::<CallbacksSpec>() {
        section(&format!("## [callbacks.{c}]"));
    }
    // [[layers]]: the common keys, then one section per layer type with its options
    let layers = section("## [[layers]]");
    let common = table_keys(&layers[..layers.find("\n### ").unwrap()]);
    // LayerSpec flattens the options, so its keys are the ones it writes
    let spec = LayerSpec {
        kind: "dense".into(),
        name: Some("d".into()),
        inputs: Some(vec!["input".into()]),
        args: Default::default(),
    };
    let want: BTreeSet<String> = serde_json::to_value(&spec)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(common, want, "[[layers]] common keys");
    let mut documented = BTreeSet::new();
    for row in lstmkit::nn::LAYERS {
        let heading = format!("### `type = \"{}\"` ({})", row.kind, row.class);
        let text = section(&heading);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("options: "))
            .unwrap_or_else(|| panic!("{heading}: no 'options:' line"));
        let got: BTreeSet<String> = if line == "none" {
            BTreeSet::new()
        } else {
            line.split(", ")
                .map(|o| o.trim_matches('`').to_string())
                .collect()
        };
        assert_eq!(got, set(&(row.options)()), "{heading}: options");
        documented.insert(row.kind);
    }
    let headings = layers.matches("\n### `type = ").count();
    assert_eq!(
        headings,
        documented.len(),
        "a documented layer type that does not exist"
    );
    // search spaces: every form and option
    let spaces = section("## Search spaces");
    let forms = table_keys(spaces);
    let mut want = set(&lstmkit::tune::toml_space::KINDS);
    want.extend(set(&lstmkit::tune::toml_space::OPTIONS));
    assert_eq!(forms, want, "search space forms and options");
}

#[test]
fn the_sections_are_read_as_written() {
    // the reader of this test's page: a section ends at the next heading of its level
    let s = section("## [fit]");
    assert!(s.contains("`epochs`") && !s.contains("`monitor`"), "{s}");
    assert!(table_keys("| `a` | x |\n| key | y |\n|`b`|\n| `c` |").len() == 2);
}
