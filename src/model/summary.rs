//! Keras-style `model.summary()`.

use super::{Model, Src};
use crate::nn::fmt_shape;

pub(super) fn summary(m: &Model) -> String {
    let linear = m.nodes.iter().enumerate().all(|(i, n)| {
        n.inputs.len() == 1
            && n.inputs[0]
                == if i == 0 {
                    Src::Input
                } else {
                    Src::Node(i - 1, 0)
                }
    });
    let mut rows: Vec<[String; 4]> = Vec::new();
    rows.push([
        "input_layer (InputLayer)".into(),
        fmt_shape(&m.input_shape),
        "0".into(),
        "-".into(),
    ]);
    for n in &m.nodes {
        let shapes: Vec<String> = n.output_shapes.iter().map(|s| fmt_shape(s)).collect();
        let shape = if shapes.len() == 1 {
            shapes[0].clone()
        } else {
            format!("[{}]", shapes.join(", "))
        };
        let params: usize = n.layer.params().iter().map(|p| p.value.len()).sum();
        let conn: Vec<String> = n
            .inputs
            .iter()
            .map(|s| match *s {
                Src::Input => "input_layer[0][0]".to_string(),
                Src::Node(j, k) => format!("{}[0][{k}]", m.nodes[j].name),
            })
            .collect();
        rows.push([
            format!("{} ({})", n.name, n.layer.class_name()),
            shape,
            params.to_string(),
            conn.join(", "),
        ]);
    }
    let ncol = if linear { 3 } else { 4 };
    let heads = ["Layer (type)", "Output Shape", "Param #", "Connected to"];
    let mut w = [0usize; 4];
    for c in 0..ncol {
        w[c] = heads[c].chars().count();
        for r in &rows {
            w[c] = w[c].max(r[c].chars().count());
        }
        w[c] += 2;
    }
    let total_w: usize = w[..ncol].iter().sum();
    let mut s = format!("Model: \"{}\"\n", m.name);
    let line = |ch: char| ch.to_string().repeat(total_w) + "\n";
    s += &line('━');
    for c in 0..ncol {
        s += &format!("{:<width$}", heads[c], width = w[c]);
    }
    s = s.trim_end().to_string() + "\n";
    s += &line('━');
    for (i, r) in rows.iter().enumerate() {
        if i == 0 && linear {
            continue;
        }
        let mut l = String::new();
        for c in 0..ncol {
            l += &format!("{:<width$}", r[c], width = w[c]);
        }
        s += l.trim_end();
        s.push('\n');
    }
    s += &line('━');
    let total = m.count_params();
    let trainable: usize = m
        .params()
        .iter()
        .filter(|(_, p)| p.trainable)
        .map(|(_, p)| p.value.len())
        .sum();
    s += &format!(" Total params: {total} ({})\n", human_bytes(total * 4));
    s += &format!(
        " Trainable params: {trainable} ({})\n",
        human_bytes(trainable * 4)
    );
    s += &format!(
        " Non-trainable params: {} ({})\n",
        total - trainable,
        human_bytes((total - trainable) * 4)
    );
    s
}

fn human_bytes(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MB", b as f64 / (1 << 20) as f64)
    } else if b >= 1 << 10 {
        format!("{:.2} KB", b as f64 / 1024.0)
    } else {
        format!("{b}.00 B")
    }
}
