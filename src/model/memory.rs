//! Memory estimates checked before anything large is allocated: a model's
//! weights (with their gradients and the optimizer's two moments) before each
//! layer is built, a model's activations for a batch before training, and the
//! size of an array a file declares before it is read.
//!
//! The budget is what the machine has: the smallest of `MemAvailable`
//! (`/proc/meminfo`), the address-space limit (`ulimit -v`) and the cgroup's
//! `memory.max`. `LSTMKIT_MEMORY_LIMIT` overrides it (`64G`, `512M`, a
//! number of bytes, or `off` to disable the check).

use serde_json::Value;

use crate::error::{Error, Result};

/// Bytes per value (float32).
const F32: u64 = 4;
/// Copies of each weight while training: the weight, its gradient, Adam's two moments.
const WEIGHT_COPIES: u64 = 4;

/// The memory budget in bytes and where it comes from; `None` = no check.
pub fn budget() -> Option<(u64, String)> {
    match std::env::var("LSTMKIT_MEMORY_LIMIT") {
        Ok(v) if !v.trim().is_empty() => {
            let v = v.trim();
            if v.eq_ignore_ascii_case("off") || v.eq_ignore_ascii_case("none") {
                return None;
            }
            match parse_bytes(v) {
                Some(b) => return Some((b, format!("LSTMKIT_MEMORY_LIMIT={v}"))),
                None => eprintln!(
                    "warning: LSTMKIT_MEMORY_LIMIT={v} is not a size (e.g. 64G, 512M, off); ignored"
                ),
            }
        }
        _ => {}
    }
    machine_budget()
}

/// Parses `123`, `512K`, `64M`, `8G`, `1T` (binary multiples; a trailing `B`/`iB` is accepted).
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix('B'))
        .unwrap_or(s);
    let (num, mul) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        't' | 'T' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    let x: f64 = num.trim().parse().ok()?;
    (x.is_finite() && x >= 0.0).then(|| (x * mul as f64).min(u64::MAX as f64) as u64)
}

fn machine_budget() -> Option<(u64, String)> {
    let mut best: Option<(u64, String)> = None;
    let mut take = |b: u64, what: &str| {
        if best.as_ref().is_none_or(|(x, _)| b < *x) {
            best = Some((b, what.to_string()));
        }
    };
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
        for key in ["MemAvailable:", "MemTotal:"] {
            if let Some(kb) = meminfo_kb(&text, key) {
                take(
                    kb.saturating_mul(1024),
                    &format!("{} in /proc/meminfo", &key[..key.len() - 1]),
                );
                break;
            }
        }
    }
    // SAFETY: getrlimit writes into the struct passed; no other effect.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } == 0
        && lim.rlim_cur != libc::RLIM_INFINITY
    {
        take(lim.rlim_cur, "the address-space limit (ulimit -v)");
    }
    if let Ok(max) = std::fs::read_to_string("/sys/fs/cgroup/memory.max") {
        if let Ok(max) = max.trim().parse::<u64>() {
            let cur = std::fs::read_to_string("/sys/fs/cgroup/memory.current")
                .ok()
                .and_then(|c| c.trim().parse::<u64>().ok())
                .unwrap_or(0);
            take(max.saturating_sub(cur), "the cgroup's memory.max");
        }
    }
    best
}

fn meminfo_kb(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// `1.5 GiB`-style text for a byte count.
pub fn human(b: u64) -> String {
    const U: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = b as f64;
    let mut i = 0;
    while x >= 1024.0 && i + 1 < U.len() {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{x:.1} {}", U[i])
    }
}

/// Refuses `need` bytes when they exceed `budget`; `what` says what needs them.
pub fn check_against(what: &str, need: u64, budget: Option<(u64, String)>) -> Result<()> {
    match budget {
        Some((have, source)) if need > have => Err(Error::Config(format!(
            "{what} needs an estimated {} and this machine has {} ({source}); \
             make it smaller, or set LSTMKIT_MEMORY_LIMIT (e.g. 64G, or off) to override",
            human(need),
            human(have)
        ))),
        _ => Ok(()),
    }
}

/// [`check_against`] with the machine's [`budget`].
pub fn check(what: &str, need: u64) -> Result<()> {
    check_against(what, need, budget())
}

/// Refuses an array of `shape` (of `elem`-byte values) that a file declares,
/// before it is allocated; `what` names the file and the object.
pub fn check_array(what: &str, shape: &[u64], elem: u64) -> Result<()> {
    let n = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .and_then(|n| n.checked_mul(elem.max(F32)));
    match n {
        None => Err(Error::Config(format!(
            "{what}: the shape {shape:?} is too large to hold in memory"
        ))),
        Some(bytes) => check(&format!("{what} (shape {shape:?})"), bytes),
    }
}

fn usize_of(cfg: &Value, key: &str) -> u64 {
    match cfg.get(key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::Array(a)) => a.first().and_then(Value::as_u64).unwrap_or(0),
        _ => 0,
    }
}

/// Estimated number of weights of a layer of `class` with Keras config `cfg`
/// on inputs whose last axis is `last` (0 when unknown or not counted).
pub fn layer_params(class: &str, cfg: &Value, last: u64) -> u64 {
    let units = usize_of(cfg, "units");
    let rec = |gates: u64| {
        gates
            .saturating_mul(units)
            .saturating_mul(last.saturating_add(units).saturating_add(2))
    };
    match class {
        "LSTM" | "ConvLSTM1D" => rec(4),
        "GRU" => rec(3),
        "SimpleRNN" => rec(1),
        "Dense" | "EinsumDense" => units.saturating_mul(last.saturating_add(1)),
        "Conv1D" | "SeparableConv1D" | "DepthwiseConv1D" | "Conv1DTranspose" => {
            let filters = usize_of(cfg, "filters").max(1);
            usize_of(cfg, "kernel_size")
                .max(1)
                .saturating_mul(last.max(1))
                .saturating_add(1)
                .saturating_mul(filters)
        }
        "Bidirectional" | "TimeDistributed" => {
            let inner = cfg.get("layer");
            let inner_cfg = inner.and_then(|l| l.get("config")).unwrap_or(&Value::Null);
            let inner_class = inner
                .and_then(|l| l.get("class_name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let one = layer_params(inner_class, inner_cfg, last);
            if class == "Bidirectional" {
                one.saturating_mul(2)
            } else {
                one
            }
        }
        "MultiHeadAttention" => {
            let heads = usize_of(cfg, "num_heads").max(1);
            let key = usize_of(cfg, "key_dim").max(1);
            heads
                .saturating_mul(key)
                .saturating_mul(last.max(1))
                .saturating_mul(4)
        }
        _ => 0,
    }
}

/// Weights (with gradients and optimizer state) of `params` values, in bytes.
pub fn weight_bytes(params: u64) -> u64 {
    params.saturating_mul(F32 * WEIGHT_COPIES)
}

impl super::Model {
    /// Estimated bytes a training step over `batch` samples needs: the
    /// weights with gradients and optimizer state, and each layer's outputs
    /// with their gradients (recurrent layers keep every step's gates).
    pub fn training_bytes(&self, batch: usize) -> u64 {
        let params: u64 = self
            .nodes
            .iter()
            .flat_map(|n| n.layer.params())
            .map(|p| p.value.data.len() as u64)
            .sum();
        let batch = batch as u64;
        let mut act: u64 = 0;
        for n in &self.nodes {
            let out: u64 = n
                .output_shapes
                .iter()
                .map(|s| s.iter().map(|&d| d.max(1) as u64).product::<u64>())
                .sum();
            let class = n.layer.class_name();
            let cfg = n.layer.config();
            let steps = self.input_shape.first().copied().unwrap_or(1).max(1) as u64;
            let gates = match class {
                "LSTM" => 6,
                "GRU" => 5,
                "SimpleRNN" => 2,
                "Bidirectional" => 12,
                _ => 0,
            };
            let cache = gates * steps * usize_of(&cfg, "units");
            act = act.saturating_add(out.saturating_mul(3).saturating_add(cache));
        }
        weight_bytes(params).saturating_add(act.saturating_mul(batch).saturating_mul(F32))
    }

    /// Refuses to train on batches of `batch` when the estimate exceeds the machine's memory.
    pub fn check_training_memory(&self, batch: usize) -> Result<()> {
        check(
            &format!(
                "training model '{}' on batches of {batch} (weights, gradients, optimizer state and activations)",
                self.name
            ),
            self.training_bytes(batch),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("512"), Some(512));
        assert_eq!(parse_bytes("64M"), Some(64 << 20));
        assert_eq!(parse_bytes("8GiB"), Some(8 << 30));
        assert_eq!(parse_bytes("1.5G"), Some(3 << 29));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(human(3 << 29), "1.5 GiB");
    }

    #[test]
    fn lstm_params_match_keras() {
        // Keras: 4·u·(in + u + 1); the estimate adds one bias row per gate (an upper bound)
        let p = layer_params("LSTM", &json!({"units": 50}), 1);
        assert!((4 * 50 * 52..=4 * 50 * 53).contains(&p), "{p}");
        assert_eq!(layer_params("Dense", &json!({"units": 1}), 50), 51);
        let bi = json!({"layer": {"class_name": "LSTM", "config": {"units": 8}}});
        assert_eq!(
            layer_params("Bidirectional", &bi, 2),
            2 * layer_params("LSTM", &json!({"units": 8}), 2)
        );
    }

    #[test]
    fn refusal_names_the_estimate_and_the_budget() {
        let need = weight_bytes(layer_params("LSTM", &json!({"units": 100000}), 1));
        let err = check_against("layer 'lstm' (LSTM)", need, Some((12 << 30, "test".into())))
            .unwrap_err()
            .to_string();
        assert!(err.contains("layer 'lstm' (LSTM)"), "{err}");
        assert!(err.contains("needs an estimated 596.1 GiB"), "{err}");
        assert!(err.contains("12.0 GiB (test)"), "{err}");
        assert!(err.contains("LSTMKIT_MEMORY_LIMIT"), "{err}");
        assert!(check_against("x", need, None).is_ok());
        assert!(check_against("x", 10, Some((11, "t".into()))).is_ok());
    }

    #[test]
    fn huge_arrays_are_refused_without_allocating() {
        let err = check_array("f.npy", &[u64::MAX, 2], 4)
            .unwrap_err()
            .to_string();
        assert!(err.contains("too large"), "{err}");
    }
}
