//! Experiment-file errors a person can act on: a TOML type error names the
//! key (with its table: `compile.learning_rate`), its line and the type
//! expected in words, and says what was found; a search space (`{ int = ..
//! }`) where one value is needed says that only `lstmkit tune` reads those.
//! serde's own wording ("invalid type: map, expected f32") is kept only
//! where nothing better is known.

/// The message for a TOML error `e` on `text` (named `source`).
pub fn describe(text: &str, source: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim_end().to_string();
    if msg.contains("unknown field `") {
        // serde loses the key's own position in tagged tables: search for it
        let hint = unknown_key_line(text, &msg, e.span().map(|s| s.start))
            .map(|(k, l)| format!("\n(the key `{k}` is at line {l})"))
            .unwrap_or_default();
        let tune = if msg.contains("unknown field `tune`") {
            "\n(a [tune] table makes this a search file for `lstmkit tune`; train and evaluate \
             with an experiment of plain values, e.g. a trial's from `lstmkit tune status`)"
        } else {
            ""
        };
        return format!("{source}: {msg}{hint}{tune}");
    }
    let Some(span) = e.span() else {
        return format!("{source}: {msg}");
    };
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let col = start - line_start;
    let key = line
        .find('=')
        .filter(|&eq| eq < col && !line.trim_start().starts_with('['))
        .map(|eq| line[..eq].trim().trim_matches('"').to_string());
    let Some(key) = key else {
        return format!("{source}, line {line_no}: {msg}\n  {line_no} | {line}");
    };
    let path = match table_of(text, line_no) {
        Some(t) => format!("{t}.{key}"),
        None => key,
    };
    // `lines()` drops a `\r`: the column may lie past the line, or inside a character
    let value = line.get(col..).unwrap_or("").trim_end();
    let value = value.split(" #").next().unwrap_or(value).trim_end();
    let problem = match parse_type_error(&msg) {
        Some((got, want)) => format!("expected {}, got {}", in_words(want), in_words(got)),
        None => msg.clone(),
    };
    let space = value.starts_with('{')
        && ["int", "float", "choice", "boolean", "fixed"]
            .iter()
            .any(|k| value.contains(&format!("{k} =")) || value.contains(&format!("{k}=")));
    let hint = if space {
        "\n(a search space: only `lstmkit tune` reads those; give one value here, e.g. a trial's \
         from `lstmkit tune status`)"
    } else {
        ""
    };
    format!("{source}, line {line_no}: `{path}`: {problem}\n  {line_no} | {line}{hint}")
}

/// The table a line (1-based) lies in: the nearest header above it, with
/// `[[layers]]` entries numbered (`layers[1]`).
fn table_of(text: &str, line_no: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().take(line_no).collect();
    let (at, header) = lines
        .iter()
        .enumerate()
        .rev()
        .find(|(_, l)| l.trim_start().starts_with('['))?;
    let h = header.trim();
    if let Some(name) = h.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
        let name = name.trim();
        let index = lines[..at]
            .iter()
            .filter(|l| {
                l.trim_start()
                    .strip_prefix("[[")
                    .and_then(|r| r.split("]]").next())
                    .map(str::trim)
                    == Some(name)
            })
            .count();
        return Some(format!("{name}[{index}]"));
    }
    h.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .map(|n| n.trim().to_string())
}

/// serde's "invalid type: GOT, expected WANT" (also "invalid value").
fn parse_type_error(msg: &str) -> Option<(&str, &str)> {
    let rest = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))?;
    let (got, want) = rest.split_once(", expected ")?;
    Some((got, want.lines().next().unwrap_or(want)))
}

/// serde's names of types and values, in words.
fn in_words(t: &str) -> String {
    let t = t.trim();
    let word = match t {
        "usize" | "u64" | "u32" | "u16" | "u8" => "a whole number (0 or more)",
        "i64" | "i32" | "i16" | "i8" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" | "bool" => "true or false",
        "map" => "a table ({ ... })",
        "sequence" => "a list ([ ... ])",
        "a string" | "string" => "a string (\"...\")",
        "a character" | "char" => "one character (\"x\")",
        _ => "",
    };
    if !word.is_empty() {
        return word.to_string();
    }
    for (p, w) in [
        ("integer ", "the whole number "),
        ("floating point ", "the number "),
        ("string ", "the string "),
        ("boolean ", ""),
    ] {
        if let Some(v) = t.strip_prefix(p) {
            return format!("{w}{}", v.trim_matches('`'));
        }
    }
    t.to_string()
}

/// For an "unknown field `k`" error inside a table whose span starts at
/// byte `from` (serde loses the key's own position in tagged tables), finds
/// the line (1-based) where `k = ...` is written.
fn unknown_key_line(text: &str, msg: &str, from: Option<usize>) -> Option<(String, usize)> {
    let start = msg.find("unknown field `")? + "unknown field `".len();
    let key = &msg[start..start + msg[start..].find('`')?];
    let from = from.unwrap_or(0).min(text.len());
    let first_line = text[..from].matches('\n').count();
    text.lines()
        .enumerate()
        .skip(first_line)
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches('[');
            t.strip_prefix(key).is_some_and(|r| {
                let r = r.trim_start();
                r.starts_with('=') || r.starts_with(']') || r.starts_with('.')
            })
        })
        .map(|(i, _)| (key.to_string(), i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Fit {
            epochs: usize,
            #[serde(default)]
            lr: Option<f32>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            fit: Fit,
        }
        let e = toml::from_str::<Doc>(text).unwrap_err();
        describe(text, "exp.toml", &e)
    }

    /// Found by `scripts/fuzz.sh` (target experiment_toml): a span past a
    /// line ending in `\r\n`, next to non-ASCII bytes, panicked on slicing.
    #[test]
    fn fuzz_crash_with_crlf_and_non_ascii_is_an_error() {
        let bytes = include_bytes!("../../tests/data/fuzz_experiment_crash1.toml");
        let text = String::from_utf8_lossy(bytes);
        let e = crate::experiment::Experiment::from_toml_str(&text, "crash.toml").unwrap_err();
        assert!(e.to_string().contains("crash.toml"), "{e}");
        for text in ["[fit]\nepochs = \"é\"\r\n", "[fit]\r\nepochs = [1,\r\n"] {
            assert!(err(text).starts_with("exp.toml"));
        }
    }

    #[test]
    fn type_errors_name_key_line_and_type() {
        let e = err("# x\n[fit]\nepochs = \"ten\"   # a comment\n");
        assert!(
            e.starts_with("exp.toml, line 3: `fit.epochs`: expected a whole number (0 or more), got the string \"ten\""),
            "{e}"
        );
        let e = err("[fit]\nepochs = 3\nlr = { float = [1e-4, 1e-2], sampling = \"log\" }\n");
        assert!(
            e.contains("line 3: `fit.lr`: expected a number, got a table")
                && e.contains("only `lstmkit tune`"),
            "{e}"
        );
        assert_eq!(
            table_of("[[a]]\nx=1\n[[a]]\ny=2\n[b]\n", 4).as_deref(),
            Some("a[1]")
        );
        assert_eq!(
            table_of("[[a]]\nx=1\n[[a]]\ny=2\n[b.c]\nz=1", 6).as_deref(),
            Some("b.c")
        );
        assert_eq!(table_of("x = 1\n", 1), None);
    }
}
