"""Seed m1 (LSTM(50, relu) -> Dense(1), CO2, 10 steps) from Python: `fit` for
100 epochs and `predict` on one window, timed. The same program runs on Keras
with BENCH_ENGINE=keras (in an environment that has Keras).

    python python/examples/bench_m1.py            # lstmkit.keras
    BENCH_ENGINE=keras python python/examples/bench_m1.py
"""

import os
import statistics
import time

import numpy as np
import pandas as pd

if os.environ.get("BENCH_ENGINE", "lstmkit") == "keras":
    import keras
    from keras.layers import LSTM, Dense, Input
    from keras.models import Sequential
    keras.utils.set_random_seed(42)
    engine = f"keras {keras.__version__} ({keras.backend.backend()})"
else:
    import lstmkit
    from lstmkit.keras.layers import LSTM, Dense, Input
    from lstmkit.keras.models import Sequential
    engine = f"lstmkit {lstmkit.__version__}"

EPOCHS = int(os.environ.get("BENCH_EPOCHS", "100"))
here = os.path.dirname(os.path.abspath(__file__))
raw = pd.read_csv(os.path.join(here, "..", "..", "data", "co2_weekly.csv"))["co2"].to_numpy(np.float32)
n_train = int(len(raw) * 0.8)
lo, hi = raw[:n_train].min(), raw[:n_train].max()
data = ((raw - lo) / (hi - lo)).astype(np.float32)
T = 10
X = np.stack([data[i:i + T] for i in range(len(data) - T)])[..., None]
y = data[T:, None]
X_train, y_train = X[:n_train - T], y[:n_train - T]

model = Sequential([Input(shape=(T, 1)), LSTM(50, activation="relu"), Dense(1)])
model.compile(optimizer="adam", loss="mse")
t0 = time.perf_counter()
h = model.fit(X_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.2, verbose=0)
fit_s = time.perf_counter() - t0
window = X[n_train - T:n_train - T + 1]
for _ in range(10):
    model.predict(window, verbose=0)
ts = []
for _ in range(200):
    t0 = time.perf_counter()
    model.predict(window, verbose=0)
    ts.append(time.perf_counter() - t0)
print(f"{engine}: fit {EPOCHS} epochs {fit_s:.2f} s (final loss {h.history['loss'][-1]:.3g}, "
      f"val_loss {h.history['val_loss'][-1]:.3g}); predict one window: median "
      f"{statistics.median(ts) * 1e6:.0f} us over 200 calls")
