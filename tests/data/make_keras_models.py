"""Generates the small Keras models in tests/data/ (run with the bench Python env:
/root/.cache/lstmkit-bench/bin/python tests/data/make_keras_models.py).

* seq_*: a Keras 3 Sequential model (no InputLayer in `model.layers`, so the
  weight groups are named without it), saved as .keras and .h5.
* states_*: a functional model using layer outputs by index (return_state) and
  initial_state, a frozen layer, regularizers, hard_sigmoid gates, go_backwards.
* tfkeras2_lstm.h5: the tf.keras 2 legacy layout (written by hand with h5py:
  `:0` suffixes, list-style inbound_nodes, batch_input_shape) holding the
  weights of fixture case a, so it must reproduce that case's y.npy.
"""
import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import h5py  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def save(model, stem, x):
    model.save(os.path.join(here, stem + ".keras"))
    model.save(os.path.join(here, stem + ".h5"))
    np.save(os.path.join(here, stem + "_x.npy"), x.astype(np.float32))
    np.save(os.path.join(here, stem + "_y.npy"), model.predict(x, verbose=0).astype(np.float32))


keras.utils.set_random_seed(1)
seq = keras.Sequential(
    [
        keras.Input((6, 2)),
        keras.layers.LSTM(5, return_sequences=True, activation="relu"),
        keras.layers.LSTM(4, use_bias=False),
        keras.layers.Dense(3, activation="tanh"),
        keras.layers.Dense(2),
    ],
    name="seq",
)
save(seq, "seq", rng.normal(size=(7, 6, 2)))

keras.utils.set_random_seed(2)
inp = keras.Input((5, 3), name="series")
enc, h, c = keras.layers.LSTM(4, return_state=True, name="enc",
                              recurrent_activation="hard_sigmoid")(inp)
dec = keras.layers.LSTM(4, return_sequences=True, go_backwards=True, name="dec",
                        kernel_regularizer=keras.regularizers.L2(0.01))(inp, initial_state=[h, c])
last = keras.layers.LSTM(3, name="last", trainable=False)(dec)
out = keras.layers.Dense(1, name="out")(last)
states = keras.Model(inp, out, name="states")
save(states, "states", rng.normal(size=(6, 5, 3)))

# tf.keras 2 layout with the weights of fixture case a
fx = os.path.join(here, "../../../shared/fixtures/keras/a_lstm_tanh")
if not os.path.exists(fx):
    fx = "/work/shared/fixtures/keras/a_lstm_tanh"
w = json.load(open(os.path.join(fx, "weights.json")))
arr = lambda s: np.array(s["data"], dtype=np.float32).reshape(s["shape"])  # noqa: E731
cfg = {
    "class_name": "Sequential",
    "config": {
        "name": "sequential",
        "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 10, 1], "dtype": "float32",
                                                     "sparse": False, "ragged": False, "name": "lstm_input"}},
            {"class_name": "LSTM", "config": {
                "name": "lstm", "trainable": True, "dtype": "float32", "return_sequences": False,
                "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
                "time_major": False, "units": 8, "activation": "tanh", "recurrent_activation": "sigmoid",
                "use_bias": True,
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "unit_forget_bias": True, "kernel_regularizer": None, "recurrent_regularizer": None,
                "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
                "recurrent_dropout": 0.0, "implementation": 2}},
            {"class_name": "Dense", "config": {
                "name": "dense", "trainable": True, "dtype": "float32", "units": 1, "activation": "linear",
                "use_bias": True,
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                "kernel_constraint": None, "bias_constraint": None}},
        ],
    },
}
with h5py.File(os.path.join(here, "tfkeras2_lstm.h5"), "w") as f:
    f.attrs["keras_version"] = "2.15.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = json.dumps(cfg)
    mw = f.create_group("model_weights")
    mw.attrs["layer_names"] = [b"lstm", b"dense"]
    mw.attrs["backend"] = b"tensorflow"
    mw.attrs["keras_version"] = b"2.15.0"
    g = mw.create_group("lstm")
    g.attrs["weight_names"] = [b"lstm/lstm_cell/kernel:0", b"lstm/lstm_cell/recurrent_kernel:0",
                               b"lstm/lstm_cell/bias:0"]
    for k in ["kernel", "recurrent_kernel", "bias"]:
        g.create_dataset(f"lstm/lstm_cell/{k}:0", data=arr(w["lstm"][f"lstm_cell/{k}"]))
    g = mw.create_group("dense")
    g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
    for k in ["kernel", "bias"]:
        g.create_dataset(f"dense/{k}:0", data=arr(w["dense"][k]))
print("ok")
