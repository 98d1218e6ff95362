//! Retraces a Keras training run of the seed's m1 with lstmkit: the same
//! initial weights (Keras' own, from a `.keras` file) and the same order of
//! training windows that Keras' `fit` used, then the same recipe (Adam 1e-3,
//! MSE, batch 32, EarlyStopping(10, restore best), ReduceLROnPlateau(0.2, 5)).
//! Made by `scripts/keras-recipe.sh`, which prints Keras' figures beside these.
//!
//! ```text
//! cargo run --release --example keras_recipe -- INIT.keras KERAS.json
//! ```

use std::path::Path;

use lstmkit::data::{prepare, DataSpec};
use lstmkit::eval::evaluate;
use lstmkit::train::{EarlyStopping, FitOptions, Loss, Optimizer, ReduceLROnPlateau};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> lstmkit::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [init, keras_json] = &args[..] else {
        return Err(lstmkit::Error::Config(
            "usage: keras_recipe INIT.keras KERAS.json".into(),
        ));
    };
    let text =
        std::fs::read_to_string(keras_json).map_err(|e| lstmkit::Error::io(keras_json, e))?;
    let k: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| lstmkit::Error::Config(format!("{keras_json}: {e}")))?;
    let order: Vec<usize> = serde_json::from_value(k["order"].clone())
        .map_err(|e| lstmkit::Error::Config(format!("{keras_json} 'order': {e}")))?;

    let mut spec = DataSpec::new("bundled:co2", &["co2"]);
    spec.timesteps = 10;
    spec.test_split = 0.2;
    spec.validation_split = 0.2;
    let mut p = prepare(&spec, Path::new("."))?;
    // the training windows in Keras' order; fit then runs them unshuffled
    let n = p.train.x.shape[0];
    let w = p.train.x.len() / n;
    if order.len() != n || order.iter().any(|&i| i >= n) {
        return Err(lstmkit::Error::Data(format!(
            "{keras_json}: the order covers {} windows, the data has {n}",
            order.len()
        )));
    }
    let (mut x, mut y) = (p.train.x.clone(), p.train.y.clone());
    for (i, &j) in order.iter().enumerate() {
        x.data[i * w..(i + 1) * w].copy_from_slice(&p.train.x.data[j * w..(j + 1) * w]);
        y.data[i] = p.train.y.data[j];
    }
    p.train.x = x;
    p.train.y = y;

    let mut model = lstmkit::io::load_model(init)?;
    model.compile(Optimizer::adam(1e-3), Loss::Mse);
    let opts = FitOptions::new()
        .epochs(100)
        .batch_size(32)
        .shuffle(false)
        .validation_data(p.val.x.clone(), p.val.y.clone())
        .verbose(0);
    let mut es = EarlyStopping::new().patience(10).restore_best_weights(true);
    let mut rl = ReduceLROnPlateau::new().factor(0.2).patience(5);
    let h = model.fit_with_callbacks(&p.train.x, &p.train.y, &opts, &mut [&mut es, &mut rl])?;
    let ev = evaluate(&p, &model.predict(&p.test.x)?)?;
    let kv: Vec<f64> = serde_json::from_value(k["val_loss"].clone()).unwrap_or_default();
    let same = h
        .val_loss
        .iter()
        .zip(&kv)
        .take_while(|(a, b)| a.is_some_and(|a| ((a - **b) / **b).abs() < 1e-3))
        .count();
    println!(
        "lstmkit from Keras' start: test RMSE {:.4} ppm, {} epochs; val_loss within 0.1% of Keras' for the first {same} of {} epochs",
        ev.test.overall.rmse,
        h.len(),
        kv.len()
    );
    Ok(())
}
