//! Random search, as Keras Tuner's `RandomSearch`: every active parameter
//! gets `prob_to_value(u)` with `u` uniform in `[0, 1)`, in declaration order
//! (so a condition sees its parent's value); a combination already tried is
//! drawn again, at most 20 times (Keras' `_max_collisions`), after which the
//! space counts as exhausted.

use super::space::{Space, Values};
use super::trial::TrialRecord;
use crate::rng::Rng;

/// Keras Tuner's `Oracle._max_collisions`.
pub const MAX_COLLISIONS: usize = 20;

/// One random draw of the active parameters.
pub fn random_values(space: &Space, rng: &mut Rng) -> Values {
    let mut v = Values::new();
    for p in &space.params {
        if p.is_active(&v) {
            let u = rng.next_f64();
            v.insert(p.name.clone(), p.prob_to_value(u));
        }
    }
    v
}

/// Whether `values` (restricted to the space's parameters) equals the values
/// of a trial in `history`.
pub fn already_tried(space: &Space, values: &Values, history: &[TrialRecord]) -> bool {
    history
        .iter()
        .filter(|t| t.counts())
        .any(|t| same_point(space, values, &t.values))
}

/// Whether two value sets agree on every parameter of the space.
pub fn same_point(space: &Space, a: &Values, b: &Values) -> bool {
    space
        .params
        .iter()
        .all(|p| match (a.get(&p.name), b.get(&p.name)) {
            (Some(x), Some(y)) => x.same(y),
            (None, None) => true,
            _ => false,
        })
}

/// A new random combination not in `history`, or None when 20 draws in a
/// row collided (the space is exhausted).
pub fn suggest(space: &Space, history: &[TrialRecord], rng: &mut Rng) -> Option<Values> {
    for _ in 0..=MAX_COLLISIONS {
        let v = random_values(space, rng);
        if !already_tried(space, &v, history) {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::space::{HyperParameter, Sampling, Value};

    #[test]
    fn log_uniform_draws_cover_decades_evenly() {
        let mut s = Space::new();
        s.add(HyperParameter::float("lr", 1e-4, 1e-2).sampling(Sampling::Log))
            .unwrap();
        let mut rng = Rng::new(3);
        let n = 4000;
        let below_1e3 = (0..n)
            .filter(|_| random_values(&s, &mut rng)["lr"].as_f64().unwrap() < 1e-3)
            .count();
        let frac = below_1e3 as f64 / n as f64;
        assert!((frac - 0.5).abs() < 0.03, "{frac}");
    }

    #[test]
    fn exhausts_a_small_space_without_repeats() {
        let mut s = Space::new();
        s.add(HyperParameter::int("u", 32, 128).step(32)).unwrap();
        s.add(HyperParameter::boolean("b")).unwrap();
        let mut rng = Rng::new(1);
        let mut hist: Vec<TrialRecord> = Vec::new();
        while let Some(v) = suggest(&s, &hist, &mut rng) {
            hist.push(crate::tune::testutil::record(
                hist.len() as i64,
                v,
                Some(0.0),
            ));
            assert!(hist.len() <= 8);
        }
        assert_eq!(hist.len(), 8);
        let mut seen: Vec<(i64, bool)> = hist
            .iter()
            .map(|t| {
                (
                    t.values["u"].as_i64().unwrap(),
                    t.values["b"] == Value::Bool(true),
                )
            })
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 8);
    }
}
