//! Search spaces written inside an experiment TOML file: any value may be a
//! search space instead of a constant.
//!
//! ```toml
//! [[layers]]
//! type = "lstm"
//! units = { int = [32, 128], step = 32 }
//!
//! [compile]
//! learning_rate = { float = [1e-4, 1e-2], sampling = "log" }
//!
//! [fit]
//! batch_size = { choice = [16, 32, 64] }
//! ```
//!
//! Forms: `{ int = [MIN, MAX] }`, `{ float = [MIN, MAX] }` (both with
//! optional `step`, `sampling = "linear" | "log" | "reverse_log"`),
//! `{ choice = [V, ...] }` (optional `ordered`), `{ boolean = true }`,
//! `{ fixed = V }`. Every form takes an optional `default`, `name` (else the
//! dotted path, e.g. `layers.0.units`; two sites with one `name` share one
//! parameter) and `when = { PARENT = [VALUES] }` (active only while the
//! parameter `PARENT` — a name or a path — takes one of the values; an
//! inactive site gets its default). The `[tune]` table is not searched.
//! The walker works on a `toml::Value` tree, so it needs nothing from the
//! experiment's own structs.
//!
//! ```
//! use lstmkit::tune::toml_space;
//! let doc: toml::Value = toml::from_str(r#"
//! [[layers]]
//! units = { int = [32, 128], step = 32 }
//! [compile]
//! learning_rate = { float = [1e-4, 1e-2], sampling = "log" }
//! "#).unwrap();
//! let ts = toml_space::find(&doc).unwrap();
//! assert_eq!(ts.space.params[0].name, "layers.0.units");
//! let mut v = ts.space.defaults();
//! v.insert("layers.0.units".into(), 96.into());
//! let out = toml_space::substitute(&doc, &ts, &v).unwrap();
//! assert_eq!(out["layers"][0]["units"].as_integer(), Some(96));
//! assert_eq!(out["compile"]["learning_rate"].as_float(), Some(1e-4));
//! ```

use super::space::{HyperParameter, Sampling, Space, Value, Values};
use crate::error::{Error, Result};

/// The forms of a search space (`{ int = [..] }`, ...).
pub const KINDS: [&str; 5] = ["int", "float", "choice", "boolean", "fixed"];
/// The options every form takes.
pub const OPTIONS: [&str; 6] = ["step", "sampling", "default", "name", "when", "ordered"];

/// One step of a path into the TOML tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A place in the file holding a search space.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Where it is.
    pub path: Vec<Seg>,
    /// The parameter it takes its value from.
    pub name: String,
}

/// The search space found in a file, and where its parameters go.
#[derive(Clone, Debug, PartialEq)]
pub struct TomlSpace {
    /// The parameters (parents before their children).
    pub space: Space,
    /// The sites, in file order.
    pub sites: Vec<Site>,
}

fn path_str(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A TOML scalar as a hyper-parameter value.
pub fn to_value(v: &toml::Value, at: &str) -> Result<Value> {
    Ok(match v {
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::String(s) => Value::Str(s.clone()),
        other => {
            return Err(Error::Config(format!(
                "{at}: search-space values must be numbers, strings or booleans (got {})",
                other.type_str()
            )))
        }
    })
}

/// A hyper-parameter value as TOML.
pub fn to_toml(v: &Value) -> toml::Value {
    match v {
        Value::Int(i) => toml::Value::Integer(*i),
        Value::Float(f) => toml::Value::Float(*f),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Str(s) => toml::Value::String(s.clone()),
    }
}

fn num(v: &toml::Value, at: &str) -> Result<f64> {
    match v {
        toml::Value::Integer(i) => Ok(*i as f64),
        toml::Value::Float(f) => Ok(*f),
        o => Err(Error::Config(format!(
            "{at}: expected a number, got {}",
            o.type_str()
        ))),
    }
}

fn int(v: &toml::Value, at: &str) -> Result<i64> {
    match v {
        toml::Value::Integer(i) => Ok(*i),
        o => Err(Error::Config(format!(
            "{at}: expected an integer, got {}",
            o.type_str()
        ))),
    }
}

fn pair<'a>(v: &'a toml::Value, at: &str) -> Result<(&'a toml::Value, &'a toml::Value)> {
    match v.as_array() {
        Some(a) if a.len() == 2 => Ok((&a[0], &a[1])),
        _ => Err(Error::Config(format!("{at}: expected [MIN, MAX]"))),
    }
}

/// `when` conditions before resolution: (parent name or path, values).
type When = Vec<(String, Vec<Value>)>;

/// Whether a TOML table is a search-space spec (has one of the kind keys).
fn is_spec(t: &toml::map::Map<String, toml::Value>) -> bool {
    t.keys().any(|k| KINDS.contains(&k.as_str()))
}

/// Parses one spec table into a parameter (without conditions resolved).
fn parse_spec(
    t: &toml::map::Map<String, toml::Value>,
    path: &str,
) -> Result<(HyperParameter, When)> {
    let kinds: Vec<&str> = t
        .keys()
        .map(String::as_str)
        .filter(|k| KINDS.contains(k))
        .collect();
    if kinds.len() != 1 {
        return Err(Error::Config(format!(
            "{path}: a search space has exactly one of int, float, choice, boolean, fixed (got {})",
            kinds.join(", ")
        )));
    }
    for k in t.keys() {
        if !KINDS.contains(&k.as_str()) && !OPTIONS.contains(&k.as_str()) {
            return Err(Error::Config(format!(
                "{path}: unknown search-space key '{k}' (allowed: {}, {})",
                KINDS.join(", "),
                OPTIONS.join(", ")
            )));
        }
    }
    let kind = kinds[0];
    let at = |k: &str| format!("{path}.{k}");
    let name = match t.get("name") {
        Some(toml::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => {
            return Err(Error::Config(format!(
                "{}: expected a non-empty string",
                at("name")
            )))
        }
        None => path.to_string(),
    };
    let sampling = match t.get("sampling") {
        Some(toml::Value::String(s)) => Some(
            Sampling::from_name(s)
                .map_err(|e| Error::Config(format!("{}: {e}", at("sampling"))))?,
        ),
        Some(_) => {
            return Err(Error::Config(format!(
                "{}: expected a string",
                at("sampling")
            )))
        }
        None => None,
    };
    if kind != "int" && kind != "float" && (t.contains_key("step") || sampling.is_some()) {
        return Err(Error::Config(format!(
            "{path}: step and sampling apply to int and float only"
        )));
    }
    if kind != "choice" && t.contains_key("ordered") {
        return Err(Error::Config(format!(
            "{path}: ordered applies to choice only"
        )));
    }
    let mut hp = match kind {
        "int" => {
            let (a, b) = pair(&t["int"], &at("int"))?;
            let mut h = HyperParameter::int(&name, int(a, &at("int"))?, int(b, &at("int"))?);
            if let Some(s) = t.get("step") {
                h = h.step(int(s, &at("step"))? as f64);
            }
            h
        }
        "float" => {
            let (a, b) = pair(&t["float"], &at("float"))?;
            let mut h = HyperParameter::float(&name, num(a, &at("float"))?, num(b, &at("float"))?);
            if let Some(s) = t.get("step") {
                h = h.step(num(s, &at("step"))?);
            }
            h
        }
        "choice" => {
            let arr = t["choice"].as_array().ok_or_else(|| {
                Error::Config(format!("{}: expected an array of values", at("choice")))
            })?;
            let vals = arr
                .iter()
                .map(|v| to_value(v, &at("choice")))
                .collect::<Result<Vec<_>>>()?;
            let mut h = HyperParameter::choice(&name, vals);
            if let Some(o) = t.get("ordered") {
                let o = o.as_bool().ok_or_else(|| {
                    Error::Config(format!("{}: expected true or false", at("ordered")))
                })?;
                if let super::space::Kind::Choice { ordered, .. } = &mut h.kind {
                    *ordered = o;
                }
            }
            h
        }
        "boolean" => {
            if t["boolean"].as_bool() != Some(true) {
                return Err(Error::Config(format!(
                    "{}: write `boolean = true`",
                    at("boolean")
                )));
            }
            HyperParameter::boolean(&name)
        }
        _ => HyperParameter::fixed(&name, to_value(&t["fixed"], &at("fixed"))?),
    };
    if let Some(s) = sampling {
        hp = hp.sampling(s);
    }
    if let Some(d) = t.get("default") {
        let mut d = to_value(d, &at("default"))?;
        if kind == "float" {
            if let Value::Int(i) = d {
                d = Value::Float(i as f64);
            }
        }
        hp = hp.default_value(d);
    }
    let mut when = Vec::new();
    if let Some(w) = t.get("when") {
        let w = w.as_table().ok_or_else(|| {
            Error::Config(format!("{}: expected {{ PARENT = [VALUES] }}", at("when")))
        })?;
        for (parent, vals) in w {
            let vals = match vals {
                toml::Value::Array(a) => a
                    .iter()
                    .map(|v| to_value(v, &at("when")))
                    .collect::<Result<Vec<_>>>()?,
                v => vec![to_value(v, &at("when"))?],
            };
            when.push((parent.clone(), vals));
        }
    }
    Ok((hp, when))
}

fn walk(
    v: &toml::Value,
    path: &mut Vec<Seg>,
    out: &mut Vec<(Vec<Seg>, HyperParameter, When)>,
) -> Result<()> {
    match v {
        toml::Value::Table(t) => {
            if is_spec(t) {
                let p = path_str(path);
                let (hp, when) = parse_spec(t, &p)?;
                out.push((path.clone(), hp, when));
                return Ok(());
            }
            for (k, child) in t {
                if path.is_empty() && k == "tune" {
                    continue;
                }
                path.push(Seg::Key(k.clone()));
                walk(child, path, out)?;
                path.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(child, path, out)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Finds every search space in `doc` (outside `[tune]`).
pub fn find(doc: &toml::Value) -> Result<TomlSpace> {
    let mut found = Vec::new();
    walk(doc, &mut Vec::new(), &mut found)?;
    let names: Vec<String> = found.iter().map(|(_, h, _)| h.name.clone()).collect();
    let paths: Vec<String> = found.iter().map(|(p, _, _)| path_str(p)).collect();
    // Resolve `when` parents (by name or by path) into conditions.
    let mut pending = Vec::new();
    let mut sites = Vec::new();
    for (path, mut hp, when) in found {
        for (parent, values) in when {
            let pname = if names.contains(&parent) {
                parent.clone()
            } else if let Some(i) = paths.iter().position(|p| *p == parent) {
                names[i].clone()
            } else {
                return Err(Error::Config(format!(
                    "{}.when: no search space named '{parent}'",
                    path_str(&path)
                )));
            };
            hp = hp.when(&pname, values);
        }
        sites.push(Site {
            path,
            name: hp.name.clone(),
        });
        pending.push(hp);
    }
    // File order, except that a child waits for its parents.
    let mut space = Space::new();
    let mut deferred: Vec<HyperParameter> = Vec::new();
    let ready = |space: &Space, hp: &HyperParameter| {
        hp.conditions
            .iter()
            .all(|c| c.parent != hp.name && space.get(&c.parent).is_some())
    };
    for hp in pending {
        if !ready(&space, &hp) {
            deferred.push(hp);
            continue;
        }
        space.add(hp)?;
        while let Some(i) = deferred.iter().position(|d| ready(&space, d)) {
            space.add(deferred.remove(i))?;
        }
    }
    if !deferred.is_empty() {
        return Err(Error::Config(format!(
            "search-space conditions form a cycle: {}",
            deferred
                .iter()
                .map(|h| h.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(TomlSpace { space, sites })
}

fn set_at(doc: &mut toml::Value, path: &[Seg], v: toml::Value) -> Result<()> {
    let mut cur = doc;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), toml::Value::Table(t)) => t
                .get_mut(k)
                .ok_or_else(|| Error::Other(format!("missing key '{k}'")))?,
            (Seg::Index(i), toml::Value::Array(a)) => a
                .get_mut(*i)
                .ok_or_else(|| Error::Other(format!("missing index {i}")))?,
            _ => return Err(Error::Other(format!("bad path {}", path_str(path)))),
        };
    }
    *cur = v;
    Ok(())
}

/// `doc` with every site replaced by its parameter's value in `values`
/// (its default when inactive or absent), and without the `[tune]` table.
pub fn substitute(doc: &toml::Value, ts: &TomlSpace, values: &Values) -> Result<toml::Value> {
    let mut out = doc.clone();
    if let toml::Value::Table(t) = &mut out {
        t.remove("tune");
    }
    for site in &ts.sites {
        let p = ts
            .space
            .get(&site.name)
            .ok_or_else(|| Error::Other(format!("unknown parameter '{}'", site.name)))?;
        let v = match values.get(&site.name) {
            Some(v) if p.is_active(values) => v.clone(),
            _ => p.default_or_first(),
        };
        set_at(&mut out, &site.path, to_toml(&v))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> toml::Value {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn finds_all_forms_in_file_order() {
        let doc = parse(
            r#"
            [data]
            path = "x.csv"
            [[layers]]
            type = "lstm"
            units = { int = [32, 128], step = 32 }
            [[layers]]
            type = "dense"
            units = 1
            [compile]
            optimizer = { choice = ["adam", "rmsprop"] }
            learning_rate = { float = [1e-4, 1e-2], sampling = "log" }
            [fit]
            batch_size = { choice = [16, 32, 64] }
            shuffle = { boolean = true }
            epochs = { fixed = 5 }
            [tune]
            max_trials = { int = [1, 2] }
            "#,
        );
        let ts = find(&doc).unwrap();
        let names: Vec<&str> = ts.space.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layers.0.units",
                "compile.optimizer",
                "compile.learning_rate",
                "fit.batch_size",
                "fit.shuffle",
                "fit.epochs"
            ]
        );
        let mut v = ts.space.defaults();
        v.insert("fit.batch_size".into(), 64.into());
        v.insert("compile.learning_rate".into(), 0.003.into());
        let out = substitute(&doc, &ts, &v).unwrap();
        assert_eq!(out["fit"]["batch_size"].as_integer(), Some(64));
        assert_eq!(out["compile"]["learning_rate"].as_float(), Some(0.003));
        assert_eq!(out["compile"]["optimizer"].as_str(), Some("adam"));
        assert_eq!(out["fit"]["shuffle"].as_bool(), Some(false));
        assert_eq!(out["fit"]["epochs"].as_integer(), Some(5));
        assert_eq!(out["layers"][1]["units"].as_integer(), Some(1));
        assert!(out.get("tune").is_none());
    }

    #[test]
    fn conditions_and_shared_names() {
        let doc = parse(
            r#"
            [model]
            dropout = { float = [0.0, 0.5], step = 0.1, when = { "model.kind" = "lstm" } }
            kind = { choice = ["dense", "lstm"] }
            a = { int = [8, 64], name = "width" }
            b = { int = [8, 64], name = "width" }
            "#,
        );
        let ts = find(&doc).unwrap();
        // The parent moves before its child.
        assert_eq!(ts.space.params[0].name, "model.kind");
        assert_eq!(ts.space.params[1].name, "model.dropout");
        assert_eq!(ts.space.len(), 3);
        let mut v = ts.space.defaults();
        assert!(!v.contains_key("model.dropout"));
        v.insert("width".into(), 40.into());
        let out = substitute(&doc, &ts, &v).unwrap();
        assert_eq!(out["model"]["a"].as_integer(), Some(40));
        assert_eq!(out["model"]["b"].as_integer(), Some(40));
        assert_eq!(out["model"]["dropout"].as_float(), Some(0.0));
        v.insert("model.kind".into(), "lstm".into());
        v.insert("model.dropout".into(), 0.3.into());
        let out = substitute(&doc, &ts, &v).unwrap();
        assert_eq!(out["model"]["dropout"].as_float(), Some(0.3));
    }

    #[test]
    fn errors_name_the_path() {
        for (src, want) in [
            ("a = { int = [1.5, 3] }", "a.int"),
            (
                "a = { int = [1, 3], stride = 2 }",
                "unknown search-space key 'stride'",
            ),
            ("a = { int = [1, 3], float = [1, 2] }", "exactly one"),
            ("[x]\na = { choice = [1, \"b\"] }", "x.a"),
            (
                "a = { float = [0.0, 1.0], sampling = \"log\" }",
                "non-positive",
            ),
            (
                "a = { int = [1, 3], when = { b = 1 } }",
                "no search space named 'b'",
            ),
            ("a = { boolean = false }", "boolean = true"),
        ] {
            let e = find(&parse(src)).unwrap_err().to_string();
            assert!(e.contains(want), "{src}: {e}");
        }
    }
}
