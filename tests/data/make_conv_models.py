"""Keras 3 fixtures for Conv1D, MaxPooling1D, AveragePooling1D (CNN-LSTM models
as forecasting tutorials build them) and SimpleRNN: small seeded models, each
saved as `.keras` (its members deflated) and `.h5` with an input `x.npy` and Keras' own prediction
`y.npy` under `tests/data/conv/`, listed in `manifest.json`.
`tests/it/keras_conv.rs` loads every file with lstmkit and compares.

Run with the bench Python env (Keras 3 on TensorFlow):

    /root/.cache/lstmkit-bench/bin/python tests/data/make_conv_models.py [--out tests/data/conv]
"""
import argparse
import json
import os
import zipfile
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

import keras  # noqa: E402

L = keras.layers
MODELS = []


def model(group):
    def deco(f):
        MODELS.append((f.__name__, group, f))
        return f
    return deco


# ---------------------------------------------------------------- Conv1D + pooling
@model("conv")
def conv_paddings():
    # one branch per padding: valid; same with strides 2; causal with dilation
    # 2 and relu; a WaveNet-like causal stack (dilation 1, 2, 4)
    T, F = 12, 2
    i = keras.Input((T, F))
    a = L.Conv1D(4, 3, padding="valid")(i)
    a = L.MaxPooling1D(2)(a)
    b = L.Conv1D(4, 3, strides=2, padding="same")(i)
    b = L.AveragePooling1D(2, padding="same")(b)
    c = L.Conv1D(4, 3, dilation_rate=2, padding="causal", activation="relu")(i)
    c = L.MaxPooling1D(3, strides=2, padding="same")(c)
    d = i
    for rate in (1, 2, 4):
        d = L.Conv1D(3, 2, dilation_rate=rate, padding="causal", activation="elu")(d)
    h = L.Concatenate()([L.LSTM(3)(a), L.LSTM(3)(b), L.LSTM(3)(c),
                         L.GlobalAveragePooling1D()(d)])
    return keras.Model(i, L.Dense(1)(h)), T, F


@model("conv")
def conv_pool_options():
    # even kernel under same (uneven padding), no bias, strides 3, pooling
    # strides above and below pool_size, windows cut by the padding
    T, F = 11, 3
    m = keras.Sequential([
        keras.Input((T, F)),
        L.Conv1D(5, 4, padding="same", use_bias=False, activation="tanh"),
        L.AveragePooling1D(3, strides=2),
        L.Conv1D(3, 2, strides=3, padding="same", kernel_initializer="he_uniform"),
        L.MaxPooling1D(2, strides=1, padding="same"),
        L.AveragePooling1D(2, strides=3, padding="same"),
        L.Flatten(),
        L.Dense(2),
    ])
    return m, T, F


@model("conv")
def cnn_lstm():
    # the tutorial CNN-LSTM
    T, F = 10, 1
    m = keras.Sequential([
        keras.Input((T, F)),
        L.Conv1D(filters=16, kernel_size=3, activation="relu"),
        L.MaxPooling1D(2),
        L.LSTM(16),
        L.Dense(1),
    ])
    return m, T, F


# ---------------------------------------------------------------- SimpleRNN
@model("simple_rnn")
def simple_rnn_stack():
    T, F = 6, 2
    m = keras.Sequential([keras.Input((T, F)), L.SimpleRNN(8, return_sequences=True),
                          L.SimpleRNN(4), L.Dense(1)])
    return m, T, F


@model("simple_rnn")
def simple_rnn_options():
    # relu; go_backwards into a layer without bias; dropout (inference: the
    # plain cell); Bidirectional
    T, F = 6, 2
    i = keras.Input((T, F))
    a = L.SimpleRNN(4, activation="relu")(i)
    b = L.SimpleRNN(4, go_backwards=True, return_sequences=True)(i)
    b = L.SimpleRNN(3, use_bias=False)(b)
    c = L.SimpleRNN(4, dropout=0.3, recurrent_dropout=0.2)(i)
    d = L.Bidirectional(L.SimpleRNN(3, return_sequences=True))(i)
    d = L.Bidirectional(L.SimpleRNN(2), merge_mode="sum")(d)
    h = L.Concatenate()([a, b, c, d])
    return keras.Model(i, L.Dense(1)(h)), T, F


def deflate(path):
    """Re-writes a .keras archive with its members deflated (Keras stores them):
    the fixture shrinks about tenfold; Keras and lstmkit read either."""
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info, data in members:
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "conv"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    manifest = []
    for name, group, fn in MODELS:
        seed = zlib.crc32(name.encode()) % 100_000
        keras.utils.set_random_seed(seed)
        m, T, F = fn()
        rs = np.random.RandomState(seed)
        # non-zero biases, so that they are tested too
        for w in m.weights:
            if w.path.endswith("bias") and np.all(w.numpy() == 0):
                w.assign(rs.uniform(-0.3, 0.3, w.shape).astype("float32"))
        x = rs.randn(4, T, F).astype("float32")
        y = np.asarray(m.predict(x, verbose=0), dtype=np.float32)
        files = [name + ".keras", name + ".h5"]
        for f in files:
            m.save(os.path.join(a.out, f))
        deflate(os.path.join(a.out, files[0]))
        for f in files:  # the saved files give Keras' y back
            p = keras.models.load_model(os.path.join(a.out, f)).predict(x, verbose=0)
            assert np.array_equal(p, y), f
        np.save(os.path.join(a.out, name + "_x.npy"), x)
        np.save(os.path.join(a.out, name + "_y.npy"), y)
        manifest.append({"name": name, "group": group, "files": files,
                         "x": name + "_x.npy", "y": name + "_y.npy"})
        print(f"{name}: x {x.shape} -> y {y.shape}")
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
