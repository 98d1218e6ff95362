//! Hyperband, with Keras Tuner's bracket formulas (`HyperbandOracle`).
//!
//! With `R = max_epochs` and `η = factor`: the number of brackets is how many
//! times `R` can be divided by `η` while staying ≥ 1; bracket `b` has `b + 1`
//! rounds; round `r` of bracket `b` trains
//! `size(b, r) = ceil(ceil(1 + log_η R) / (b + 1) · η^(b−r))` models for
//! `epochs(b, r) = ceil(R / η^(b−r))` epochs. Brackets run from the largest
//! `b` down to 0 (then again, `iterations` times). A round-`r` trial takes the
//! best complete trial of round `r − 1` not yet promoted, once more trials of
//! that round have completed than `size(b, r−1) − size(b, r)`.
//!
//! The state is rebuilt from the trials' values (`tuner/bracket`,
//! `tuner/round`, `tuner/epochs`, `tuner/initial_epoch`, `tuner/trial_id`,
//! and `tuner/iteration`), so any number of workers can share it through the
//! storage.
//!
//! ```
//! use lstmkit::tune::hyperband::Hyperband;
//! let hb = Hyperband { max_epochs: 81, factor: 3, iterations: 1 };
//! assert_eq!(hb.num_brackets(), 5);
//! assert_eq!((hb.size(4, 0), hb.epochs(4, 0)), (81, 1));
//! assert_eq!((hb.size(4, 4), hb.epochs(4, 4)), (1, 81));
//! ```

use super::random;
use super::space::{Space, Value, Values};
use super::trial::{TrialRecord, TrialState};
use super::{Past, Suggestion};
use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hyperband's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hyperband {
    /// Most epochs one model is trained for (Keras default 100).
    pub max_epochs: i64,
    /// Reduction factor η (Keras default 3).
    pub factor: i64,
    /// How many times all brackets run (Keras' `hyperband_iterations`, default 1).
    pub iterations: i64,
}

/// Keys Hyperband adds to a trial's values.
pub const KEYS: [&str; 6] = [
    "tuner/epochs",
    "tuner/initial_epoch",
    "tuner/bracket",
    "tuner/round",
    "tuner/iteration",
    "tuner/trial_id",
];

fn get_i(v: &Values, k: &str) -> Option<i64> {
    v.get(k).and_then(|x| x.as_i64())
}

impl Hyperband {
    /// Checks the settings (Keras: factor ≥ 2).
    pub fn validate(&self) -> Result<()> {
        if self.factor < 2 {
            return Err(Error::Config(
                "hyperband: factor needs to be an integer larger than 1".into(),
            ));
        }
        if self.max_epochs < 1 || self.iterations < 1 {
            return Err(Error::Config(
                "hyperband: max_epochs and iterations must be ≥ 1".into(),
            ));
        }
        Ok(())
    }
    /// Keras' `_get_num_brackets`.
    pub fn num_brackets(&self) -> i64 {
        let mut e = self.max_epochs as f64;
        let mut b = 0;
        while e >= 1.0 {
            e /= self.factor as f64;
            b += 1;
        }
        b
    }
    /// Keras' `_get_size(bracket, round)`.
    pub fn size(&self, bracket: i64, round: i64) -> i64 {
        let b0_end = (1.0 + (self.max_epochs as f64).ln() / (self.factor as f64).ln()).ceil();
        let end = b0_end / (bracket + 1) as f64;
        (end * (self.factor as f64).powi((bracket - round) as i32)).ceil() as i64
    }
    /// Keras' `_get_epochs(bracket, round)`.
    pub fn epochs(&self, bracket: i64, round: i64) -> i64 {
        (self.max_epochs as f64 / (self.factor as f64).powi((bracket - round) as i32)).ceil() as i64
    }

    /// The next trial: a random one for a bracket's first round, a promotion,
    /// `Idle` while a round waits for results, `Stop` when all brackets are done.
    pub fn suggest(&self, past: Past, rng: &mut Rng) -> Result<Suggestion> {
        let (space, history, dir) = (past.space, past.history, past.dir);
        self.validate()?;
        let nb = self.num_brackets();
        // Bracket instances by start order k = iteration * nb + (nb - 1 - bracket).
        let mut inst: BTreeMap<i64, Vec<&TrialRecord>> = BTreeMap::new();
        for t in history.iter().filter(|t| t.counts()) {
            if let (Some(b), Some(it)) = (
                get_i(&t.values, "tuner/bracket"),
                get_i(&t.values, "tuner/iteration"),
            ) {
                inst.entry(it * nb + (nb - 1 - b)).or_default().push(t);
            }
        }
        let current = inst.keys().next_back().copied();
        for (&k, trials) in &inst {
            let b = nb - 1 - k % nb;
            let it = k / nb;
            let in_round = |r: i64| -> Vec<&TrialRecord> {
                trials
                    .iter()
                    .copied()
                    .filter(|t| get_i(&t.values, "tuner/round") == Some(r))
                    .collect()
            };
            if in_round(b).len() as i64 == self.size(b, b) {
                continue; // complete bracket
            }
            if (in_round(0).len() as i64) < self.size(b, 0) {
                return Ok(self.random_trial(space, history, rng, b, it));
            }
            for r in 1..=b {
                let selected: Vec<i64> = in_round(r)
                    .iter()
                    .filter_map(|t| get_i(&t.values, "tuner/trial_id"))
                    .collect();
                let mut cand: Vec<&TrialRecord> = in_round(r - 1)
                    .into_iter()
                    .filter(|t| !selected.contains(&t.number))
                    .filter(|t| t.state == TrialState::Complete && t.score.is_some())
                    .collect();
                if cand.len() as i64 > self.size(b, r - 1) - self.size(b, r) {
                    cand.sort_by(|a, c| {
                        dir.key(a.score.unwrap_or(f64::NAN))
                            .total_cmp(&dir.key(c.score.unwrap_or(f64::NAN)))
                            .then(a.number.cmp(&c.number))
                    });
                    let best = cand[0];
                    let mut v: Values = best
                        .values
                        .iter()
                        .filter(|(k, _)| !k.starts_with("tuner/"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    v.insert("tuner/trial_id".into(), Value::Int(best.number));
                    v.insert("tuner/epochs".into(), Value::Int(self.epochs(b, r)));
                    v.insert(
                        "tuner/initial_epoch".into(),
                        Value::Int(self.epochs(b, r - 1)),
                    );
                    v.insert("tuner/bracket".into(), Value::Int(b));
                    v.insert("tuner/round".into(), Value::Int(r));
                    v.insert("tuner/iteration".into(), Value::Int(it));
                    return Ok(Suggestion::Run(v));
                }
            }
        }
        let next = match current {
            None => 0,
            Some(k) => {
                let b = nb - 1 - k % nb;
                let it = k / nb;
                if b == 0 && it + 1 >= self.iterations {
                    return Ok(Suggestion::Stop);
                }
                k + 1
            }
        };
        Ok(self.random_trial(space, history, rng, nb - 1 - next % nb, next / nb))
    }

    fn random_trial(
        &self,
        space: &Space,
        history: &[TrialRecord],
        rng: &mut Rng,
        b: i64,
        it: i64,
    ) -> Suggestion {
        match random::suggest(space, history, rng) {
            Some(mut v) => {
                v.insert("tuner/epochs".into(), Value::Int(self.epochs(b, 0)));
                v.insert("tuner/initial_epoch".into(), Value::Int(0));
                v.insert("tuner/bracket".into(), Value::Int(b));
                v.insert("tuner/round".into(), Value::Int(0));
                v.insert("tuner/iteration".into(), Value::Int(it));
                Suggestion::Run(v)
            }
            None => Suggestion::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::space::HyperParameter;
    use crate::tune::testutil::record;
    use crate::tune::trial::Direction;

    #[test]
    fn brackets_match_keras_tuner() {
        // (size, epochs) per bracket and round, printed by Keras Tuner 1.4.8's
        // HyperbandOracle._get_size / _get_epochs.
        let cases: [(i64, i64, &str); 5] = [
            (81, 3, "[[(5, 81)], [(8, 27), (3, 81)], [(15, 9), (5, 27), (2, 81)], [(34, 3), (12, 9), (4, 27), (2, 81)], [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]]"),
            (100, 3, "[[(6, 100)], [(9, 34), (3, 100)], [(18, 12), (6, 34), (2, 100)], [(41, 4), (14, 12), (5, 34), (2, 100)], [(98, 2), (33, 4), (11, 12), (4, 34), (2, 100)]]"),
            (10, 3, "[[(4, 10)], [(6, 4), (2, 10)], [(12, 2), (4, 4), (2, 10)]]"),
            (27, 3, "[[(4, 27)], [(6, 9), (2, 27)], [(12, 3), (4, 9), (2, 27)], [(27, 1), (9, 3), (3, 9), (1, 27)]]"),
            (50, 4, "[[(4, 50)], [(8, 13), (2, 50)], [(22, 4), (6, 13), (2, 50)]]"),
        ];
        for (me, f, want) in cases {
            let hb = Hyperband {
                max_epochs: me,
                factor: f,
                iterations: 1,
            };
            let got: Vec<String> = (0..hb.num_brackets())
                .map(|b| {
                    let r: Vec<String> = (0..=b)
                        .map(|r| format!("({}, {})", hb.size(b, r), hb.epochs(b, r)))
                        .collect();
                    format!("[{}]", r.join(", "))
                })
                .collect();
            assert_eq!(
                format!("[{}]", got.join(", ")),
                want,
                "max_epochs={me} factor={f}"
            );
        }
    }

    /// Runs Hyperband sequentially (each trial completes at once, score = x).
    fn simulate(hb: Hyperband) -> Vec<Step> {
        let mut s = Space::new();
        s.add(HyperParameter::float("x", 0.0, 1.0)).unwrap();
        let mut hist: Vec<TrialRecord> = Vec::new();
        let mut rng = Rng::new(1);
        let mut seq = Vec::new();
        loop {
            match hb
                .suggest(Past::new(&s, &hist, Direction::Min), &mut rng)
                .unwrap()
            {
                Suggestion::Run(v) => {
                    let g = |k: &str| v[k].as_i64().unwrap();
                    seq.push((
                        g("tuner/bracket"),
                        g("tuner/round"),
                        g("tuner/epochs"),
                        g("tuner/initial_epoch"),
                    ));
                    let score = v["x"].as_f64().unwrap();
                    hist.push(record(hist.len() as i64, v, Some(score)));
                }
                Suggestion::Stop => break,
                Suggestion::Idle => panic!("idle in a sequential run"),
            }
            assert!(seq.len() < 1000);
        }
        seq
    }

    type Step = (i64, i64, i64, i64);

    fn expand(parts: &[(usize, Step)]) -> Vec<Step> {
        parts
            .iter()
            .flat_map(|(n, t)| std::iter::repeat_n(*t, *n))
            .collect()
    }

    #[test]
    fn trial_sequence_matches_keras_tuner() {
        // Sequence of (bracket, round, epochs, initial_epoch) that Keras Tuner
        // 1.4.8's HyperbandOracle creates when every trial completes at once.
        let cases: [(i64, &[(usize, Step)]); 2] = [
            (
                10,
                &[
                    (12, (2, 0, 2, 0)),
                    (4, (2, 1, 4, 2)),
                    (2, (2, 2, 10, 4)),
                    (6, (1, 0, 4, 0)),
                    (2, (1, 1, 10, 4)),
                    (4, (0, 0, 10, 0)),
                ],
            ),
            (
                9,
                &[
                    (9, (2, 0, 1, 0)),
                    (3, (2, 1, 3, 1)),
                    (1, (2, 2, 9, 3)),
                    (5, (1, 0, 3, 0)),
                    (2, (1, 1, 9, 3)),
                    (3, (0, 0, 9, 0)),
                ],
            ),
        ];
        for (max_epochs, want) in cases {
            let hb = Hyperband {
                max_epochs,
                factor: 3,
                iterations: 1,
            };
            assert_eq!(simulate(hb), expand(want), "max_epochs {max_epochs}");
        }
        assert_eq!(
            simulate(Hyperband {
                max_epochs: 9,
                factor: 3,
                iterations: 2
            })
            .len(),
            46
        );
    }

    #[test]
    fn promotion_takes_the_best_and_waits_for_results() {
        let hb = Hyperband {
            max_epochs: 9,
            factor: 3,
            iterations: 1,
        };
        let mut s = Space::new();
        s.add(HyperParameter::float("x", 0.0, 1.0)).unwrap();
        let mut rng = Rng::new(5);
        let mut hist = Vec::new();
        for i in 0..9 {
            let Suggestion::Run(v) = hb
                .suggest(Past::new(&s, &hist, Direction::Min), &mut rng)
                .unwrap()
            else {
                panic!()
            };
            let mut r = record(i, v, None);
            r.state = TrialState::Running;
            hist.push(r);
        }
        // Round 0 full and nothing complete yet: Keras starts the next bracket.
        assert!(
            matches!(hb.suggest(Past::new(&s, &hist, Direction::Min), &mut rng).unwrap(), Suggestion::Run(ref v) if v["tuner/bracket"] == Value::Int(1))
        );
        hist.truncate(9);
        // Complete 7 of 9 (9 - 3 = 6 < 7): the best of them is promoted.
        for t in hist.iter_mut().take(7) {
            t.state = TrialState::Complete;
            t.score = Some(t.values["x"].as_f64().unwrap());
        }
        let best = hist[..7]
            .iter()
            .min_by(|a, b| a.score.unwrap().total_cmp(&b.score.unwrap()))
            .unwrap()
            .number;
        let Suggestion::Run(v) = hb
            .suggest(Past::new(&s, &hist, Direction::Min), &mut rng)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(v["tuner/trial_id"], Value::Int(best));
        assert_eq!(v["tuner/round"], Value::Int(1));
        assert_eq!(v["tuner/epochs"], Value::Int(3));
    }
}
