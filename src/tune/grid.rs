//! Grid search, in Keras Tuner's `GridSearch` order.
//!
//! The first point is every active parameter at its default. Each next point
//! is an odometer step over the parameters in declaration order, the **last
//! parameter varying fastest**: walking from the last parameter backwards,
//! the first active one that is not at its last value moves to its next
//! value, and every parameter after it goes back to its default. A
//! parameter's values are its default first, then the rest of
//! [`HyperParameter::grid_values`](super::space::HyperParameter::grid_values)
//! in order. Parameters whose conditions do not hold are left out.
//!
//! ```
//! use lstmkit::tune::{grid, HyperParameter, Space, Value};
//! let mut s = Space::new();
//! s.add(HyperParameter::int("units", 32, 64).step(32)).unwrap();
//! s.add(HyperParameter::choice("act", vec!["relu".into(), "tanh".into()])).unwrap();
//! let pts = grid::enumerate(&s, 100).unwrap();
//! let flat: Vec<(i64, String)> = pts
//!     .iter()
//!     .map(|v| (v["units"].as_i64().unwrap(), v["act"].to_string()))
//!     .collect();
//! assert_eq!(flat, [(32, "relu".into()), (32, "tanh".into()), (64, "relu".into()), (64, "tanh".into())]);
//! ```

use super::random::same_point;
use super::space::{Space, Value, Values};
use super::trial::TrialRecord;
use crate::error::{Error, Result};

fn ordered_values(space: &Space, name: &str) -> Vec<Value> {
    let p = space.get(name).expect("parameter of the space");
    let d = p.default_or_first();
    let mut out = vec![d.clone()];
    out.extend(p.grid_values().into_iter().filter(|v| !v.same(&d)));
    out
}

/// The grid point after `values` (Keras' `_get_next_combination`), or None
/// after the last one.
pub fn next(space: &Space, values: &Values) -> Option<Values> {
    let mut v = values.clone();
    let mut bumped = false;
    for p in space.params.iter().rev() {
        let active = p.is_active(&v);
        if active {
            let all = ordered_values(space, &p.name);
            let cur = v
                .get(&p.name)
                .cloned()
                .unwrap_or_else(|| p.default_or_first());
            let last = all.last().expect("non-empty");
            if !cur.same(last) {
                let idx = all.iter().position(|x| x.same(&cur)).map_or(0, |i| i + 1);
                v.insert(p.name.clone(), all[idx].clone());
                bumped = true;
                break;
            }
        }
        v.insert(p.name.clone(), p.default_or_first());
    }
    if bumped {
        Some(space.ensure_active(&v))
    } else {
        None
    }
}

/// All grid points in order; an error past `limit` points.
pub fn enumerate(space: &Space, limit: usize) -> Result<Vec<Values>> {
    let mut out = vec![space.defaults()];
    while let Some(n) = next(space, out.last().expect("non-empty")) {
        if out.len() >= limit {
            return Err(Error::Config(format!(
                "the grid has more than {limit} points: use random, hyperband or tpe"
            )));
        }
        out.push(n);
    }
    Ok(out)
}

/// The first grid point that no trial of `history` has taken.
pub fn suggest(space: &Space, history: &[TrialRecord]) -> Result<Option<Values>> {
    Ok(enumerate(space, 1_000_000)?.into_iter().find(|p| {
        !history
            .iter()
            .filter(|t| t.counts())
            .any(|t| same_point(space, p, &t.values))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::space::HyperParameter;

    #[test]
    fn order_is_last_fastest_default_first() {
        let mut s = Space::new();
        s.add(HyperParameter::int("a", 1, 3).default_value(2))
            .unwrap();
        s.add(HyperParameter::boolean("b")).unwrap();
        let pts = enumerate(&s, 100).unwrap();
        let flat: Vec<(i64, bool)> = pts
            .iter()
            .map(|v| (v["a"].as_i64().unwrap(), v["b"].as_bool().unwrap()))
            .collect();
        // Default first (a=2, b=false), then grid order without the default.
        assert_eq!(
            flat,
            [
                (2, false),
                (2, true),
                (1, false),
                (1, true),
                (3, false),
                (3, true)
            ]
        );
    }

    #[test]
    fn conditional_children_enumerated_only_when_active() {
        let mut s = Space::new();
        s.add(HyperParameter::choice(
            "m",
            vec!["mlp".into(), "lstm".into()],
        ))
        .unwrap();
        s.add(
            HyperParameter::int("u", 8, 16)
                .step(8)
                .when("m", vec!["lstm".into()]),
        )
        .unwrap();
        let pts = enumerate(&s, 100).unwrap();
        let flat: Vec<String> = pts
            .iter()
            .map(|v| {
                format!(
                    "{}/{}",
                    v["m"],
                    v.get("u").map(|x| x.to_string()).unwrap_or("-".into())
                )
            })
            .collect();
        assert_eq!(flat, ["mlp/-", "lstm/8", "lstm/16"]);
    }

    #[test]
    fn suggest_skips_tried_points_and_limit_is_an_error() {
        let mut s = Space::new();
        s.add(HyperParameter::int("a", 1, 3)).unwrap();
        let h = vec![crate::tune::testutil::record(0, s.defaults(), Some(1.0))];
        assert_eq!(suggest(&s, &h).unwrap().unwrap()["a"], Value::Int(2));
        assert!(enumerate(&s, 2).is_err());
    }
}
