"""Keras' side of scripts/keras-recipe.sh: for each seed, the seed's m1 in
Keras 3 exactly as ../shared/bench/bench_keras.py trains it (quality mode),
plus what lstmkit needs to retrace that run: the initial weights (a .keras
file saved before fit) and the order in which fit visited the training
windows in each epoch. Usage: python keras_recipe.py OUT_DIR SEED [SEED ...]"""
import json, os, sys

import numpy as np

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench")
sys.path.insert(0, os.path.abspath(BENCH))
import common  # noqa: E402
import keras  # noqa: E402
from bench_keras import build  # noqa: E402

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
for seed in [int(a) for a in sys.argv[2:]]:
    # 1. the visiting order: the same data adapter, seeded the same way, on a
    #    model whose train step records the sample indices it is given
    keras.utils.set_random_seed(seed)
    d = common.prepare("co2")
    n_fit = int(len(d["X_train"]) * 0.8)
    seen = []

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(1)

        def call(self, x):
            return self.d(x[:, -1, :])

        def train_step(self, data):
            seen.append(np.asarray(data[1]).ravel().astype(int).tolist())
            return {"loss": 0.0}

    r = Recorder()
    r.compile(optimizer="adam", loss="mse", run_eagerly=True)
    idx = np.arange(n_fit, dtype=np.float32).reshape(-1, 1)
    r.fit(d["X_train"][:n_fit], idx, epochs=2, batch_size=32, verbose=0, shuffle=True)
    steps = -(-n_fit // 32)
    orders = [sum(seen[e * steps:(e + 1) * steps], []) for e in range(2)]
    # 2. the real run
    keras.utils.set_random_seed(seed)
    d = common.prepare("co2")
    m = build("m1", 1, common.LOOK_BACK)
    m.save(os.path.join(out_dir, f"init_{seed}.keras"))
    cbs = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True),
           keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5)]
    h = m.fit(d["X_train"], d["y_train"], epochs=100, batch_size=32, validation_split=0.2,
              callbacks=cbs, verbose=0)
    p = m.predict(d["X_test"], verbose=0)
    yt = common.inv_target(d, d["y_test"])
    pt = common.inv_target(d, p)
    rmse = float(np.sqrt(np.mean((yt - pt) ** 2)))
    json.dump({"seed": seed, "order": orders[0], "same_order_every_epoch": orders[0] == orders[1],
               "val_loss": h.history["val_loss"], "rmse": rmse},
              open(os.path.join(out_dir, f"keras_{seed}.json"), "w"))
    print(f"keras seed {seed}: test RMSE {rmse:.4f} ppm, {len(h.history['val_loss'])} epochs, "
          f"one order for every epoch: {orders[0] == orders[1]}", flush=True)
