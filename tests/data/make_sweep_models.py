"""Keras-compatibility sweep: builds many small, seeded Keras models from the
layers lstmkit supports, saves each one as Keras 3 `.keras` and `.h5` (and, when
the `tf_keras` package is importable, as a tf.keras 2 `.h5`), with an input
`x.npy` and Keras' own prediction `y.npy`, then (optionally) runs every file
through `lstmkit predict` and compares.

Run with the bench Python env:

    /root/.cache/lstmkit-bench/bin/python tests/data/make_sweep_models.py \
        --out /tmp/sweep [--lstmkit target/debug/lstmkit] [--only NAME,...]

`--lstmkit BIN` compares every model with Keras' y (max abs error, limit 1e-5,
times max|y| where Keras' outputs exceed 1 in magnitude)
and checks that the models lstmkit must refuse (`expect_error`) fail with a
message naming the layer and the option. Exit status 1 when anything fails.
tf.keras 2 models need `tf_keras` (matching the installed TensorFlow); without
it they are skipped with a note. `--subset` writes only the few small models
that `tests/it/keras_sweep.rs` keeps under `tests/data/sweep/`.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

import keras as K3  # noqa: E402

try:  # tf.keras 2 (the `tf_keras` package), optional
    import tf_keras as K2  # noqa: E402
except Exception:  # pragma: no cover - depends on the env
    K2 = None

ACTS = ["tanh", "relu", "sigmoid", "hard_sigmoid", "elu", "selu", "softsign",
        "softplus", "swish", "gelu", "linear"]
REC_ACTS = ["sigmoid", "hard_sigmoid", "tanh", "relu", "linear", "softsign"]
INITS = ["he_normal", "lecun_uniform", "glorot_normal", "zeros", "ones", "random_normal",
         "random_uniform", "truncated_normal", "he_uniform", "lecun_normal", "orthogonal",
         "identity"]


class B:
    """What a builder sees: the Keras module, a seeded random source, and helpers."""

    def __init__(self, K, seed, legacy):
        self.K = K
        self.L = K.layers
        self.r = random.Random(seed)
        self.legacy = legacy  # tf.keras 2

    def pick(self, xs):
        return self.r.choice(xs)

    def units(self):
        return self.r.randint(1, 6)

    def inp(self, T, F, name=None):
        return self.K.Input((T, F), name=name)


# Every builder returns (model, T, F, options) where options may hold
# fit=True (train one epoch so optimizer variables are saved),
# expect_error=[words the error must contain], keras3_only / tfk2_only.
BUILDERS = []


def builder(**opts):
    def deco(f):
        BUILDERS.append((f.__name__, f, opts))
        return f
    return deco


# ---------------------------------------------------------------- LSTM
@builder()
def lstm_acts(b):
    T, F = 6, 3
    act = b.pick(ACTS)
    rec = b.pick(["sigmoid", "hard_sigmoid"])
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(b.units(), activation=act, recurrent_activation=rec),
                        b.L.Dense(2)])
    return m, T, F, {}


for _i, _act in enumerate(ACTS):
    def _f(b, _act=_act):
        T, F = 5, 2
        m = b.K.Sequential([b.inp(T, F), b.L.LSTM(4, activation=_act, return_sequences=True),
                            b.L.LSTM(3, activation=_act), b.L.Dense(1)])
        return m, T, F, {}
    _f.__name__ = f"lstm_act_{_act}"
    builder()(_f)

for _rec in ["tanh", "relu", "linear", "softsign", "elu", "swish"]:
    def _f(b, _rec=_rec):
        T, F = 4, 2
        m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3, recurrent_activation=_rec), b.L.Dense(1)])
        return m, T, F, {}
    _f.__name__ = f"lstm_rec_{_rec}"
    builder()(_f)


@builder(fit=True)
def lstm_nobias_backwards_fit(b):
    T, F = 7, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(5, use_bias=False, go_backwards=True,
                                              kernel_initializer="he_normal",
                                              recurrent_initializer="glorot_uniform",
                                              unit_forget_bias=False),
                        b.L.Dense(3, activation="tanh"), b.L.Dense(1)])
    return m, T, F, {}


@builder()
def lstm_no_input_sequential(b):
    # Sequential without an explicit Input: built by its first call / input_shape
    T, F = 5, 3
    m = b.K.Sequential([b.L.LSTM(4, return_sequences=True), b.L.LSTM(2), b.L.Dense(1)])
    m.build((None, T, F))
    return m, T, F, {}


@builder()
def lstm_timesteps1(b):
    T, F = 1, 4
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3, return_sequences=True), b.L.Flatten(),
                        b.L.Dense(2)])
    return m, T, F, {}


@builder()
def lstm_stacked3_named(b):
    # user names that collide with other classes' default names
    T, F = 6, 2
    m = b.K.Sequential([b.inp(T, F),
                        b.L.LSTM(4, return_sequences=True, name="dense"),
                        b.L.LSTM(3, return_sequences=True, name="lstm_7"),
                        b.L.LSTM(2, name="lstm"),
                        b.L.Dense(1, name="lstm_1")], name="stack3")
    return m, T, F, {}


@builder()
def lstm_return_state(b):
    T, F = 5, 2
    i = b.inp(T, F, "series")
    seq, h, c = b.L.LSTM(4, return_sequences=True, return_state=True, name="enc")(i)
    dec = b.L.LSTM(4, go_backwards=True, name="dec")(seq, initial_state=[h, c])
    o = b.L.Concatenate()([dec, h, c])
    return b.K.Model(i, b.L.Dense(2)(o)), T, F, {}


@builder()
def lstm_state_output(b):
    # the model output is a state tensor of the last LSTM
    T, F = 4, 3
    i = b.inp(T, F)
    _, h, c = b.L.LSTM(3, return_state=True)(i)
    return b.K.Model(i, c), T, F, {}


@builder()
def lstm_initializers(b):
    T, F = 5, 2
    k = b.pick(INITS[:-1])
    m = b.K.Sequential([b.inp(T, F),
                        b.L.LSTM(3, kernel_initializer=b.K.initializers.HeNormal(seed=3),
                                 recurrent_initializer=b.K.initializers.Orthogonal(seed=4),
                                 bias_initializer="ones", return_sequences=True),
                        b.L.TimeDistributed(b.L.Dense(2, kernel_initializer=k,
                                                      bias_initializer="random_normal")),
                        b.L.GlobalAveragePooling1D(), b.L.Dense(1)])
    return m, T, F, {}


@builder()
def initializer_parameters(b):
    # initialisers with non-default parameters: irrelevant once the weights
    # are loaded, so they must not stop a model from loading
    I = b.K.initializers
    T, F = 4, 2
    m = b.K.Sequential([
        b.inp(T, F),
        b.L.LSTM(3, kernel_initializer=I.RandomNormal(mean=0.1, stddev=0.2, seed=1),
                 recurrent_initializer=I.Orthogonal(gain=2.0, seed=2),
                 bias_initializer=I.Constant(0.3), return_sequences=True),
        b.L.GRU(3, kernel_initializer=I.VarianceScaling(scale=2.0, mode="fan_out",
                                                       distribution="uniform"),
                recurrent_initializer=I.TruncatedNormal(stddev=0.3),
                bias_initializer=I.RandomUniform(-0.2, 0.2)),
        b.L.Dense(2, kernel_initializer=I.GlorotNormal(seed=5),
                  bias_initializer=I.Constant(-0.1)),
        b.L.BatchNormalization(gamma_initializer=I.Constant(1.5),
                               moving_variance_initializer=I.Constant(2.0)),
        b.L.Dense(1)])
    return m, T, F, {}


@builder()
def activation_objects(b):
    # activations passed as functions; attention dropout (inference: none)
    A = b.K.activations
    T, F = 4, 2
    i = b.inp(T, F)
    h = b.L.LSTM(3, activation=A.relu, recurrent_activation=A.hard_sigmoid,
                 return_sequences=True)(i)
    a = b.L.Attention(dropout=0.3)([h, h])
    h = b.L.GlobalAveragePooling1D()(a)
    return b.K.Model(i, b.L.Dense(1, activation=A.gelu)(h)), T, F, {}


@builder()
def lstm_dtype_float32(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3, dtype="float32"),
                        b.L.Dense(1, dtype="float32")])
    return m, T, F, {}


# ---------------------------------------------------------------- GRU
@builder()
def gru_reset_after(b):
    T, F = 6, 2
    m = b.K.Sequential([b.inp(T, F), b.L.GRU(b.units(), reset_after=True,
                                             activation=b.pick(ACTS)), b.L.Dense(1)])
    return m, T, F, {}


@builder(fit=True)
def gru_reset_before_fit(b):
    T, F = 5, 3
    m = b.K.Sequential([b.inp(T, F), b.L.GRU(4, reset_after=False, return_sequences=True),
                        b.L.GRU(3, reset_after=False, go_backwards=True, use_bias=False),
                        b.L.Dense(2)])
    return m, T, F, {}


@builder()
def gru_states(b):
    T, F = 4, 2
    i = b.inp(T, F)
    s, h = b.L.GRU(3, return_sequences=True, return_state=True)(i)
    g = b.L.GRU(3, reset_after=False)(s, initial_state=[h])
    return b.K.Model(i, b.L.Add()([g, h])), T, F, {}


for _rec in ["tanh", "relu", "linear", "softsign", "elu", "selu", "softplus"]:
    def _f(b, _rec=_rec):
        T, F = 5, 2
        m = b.K.Sequential([b.inp(T, F),
                            b.L.GRU(3, recurrent_activation=_rec, return_sequences=True),
                            b.L.GRU(2, recurrent_activation=_rec, reset_after=False),
                            b.L.Dense(1)])
        return m, T, F, {}
    _f.__name__ = f"gru_rec_{_rec}"
    builder()(_f)


@builder()
def gru_hard_sigmoid(b):
    T, F = 5, 1
    m = b.K.Sequential([b.inp(T, F), b.L.GRU(3, recurrent_activation="hard_sigmoid",
                                             activation="softsign"), b.L.Dense(1)])
    return m, T, F, {}


# ---------------------------------------------------------------- Bidirectional
for _mode in ["concat", "sum", "mul", "ave"]:
    def _f(b, _mode=_mode):
        T, F = 5, 2
        cls = b.L.LSTM if _mode in ("concat", "mul") else b.L.GRU
        m = b.K.Sequential([b.inp(T, F),
                            b.L.Bidirectional(cls(3, return_sequences=True), merge_mode=_mode),
                            b.L.Bidirectional(b.L.LSTM(2), merge_mode=_mode),
                            b.L.Dense(1)])
        return m, T, F, {}
    _f.__name__ = f"bidir_{_mode}"
    builder()(_f)


@builder(fit=True)
def bidir_backward_layer_fit(b):
    T, F = 5, 2
    i = b.inp(T, F)
    fw = b.L.LSTM(3, return_sequences=True)
    bw = b.L.LSTM(3, return_sequences=True, go_backwards=True, activation="relu")
    x = b.L.Bidirectional(fw, backward_layer=bw, name="bi")(i)
    x = b.L.GlobalMaxPooling1D()(x)
    return b.K.Model(i, b.L.Dense(1)(x)), T, F, {}


@builder()
def bidir_gru_reset_before(b):
    T, F = 4, 3
    m = b.K.Sequential([b.inp(T, F), b.L.Bidirectional(b.L.GRU(2, reset_after=False),
                                                       merge_mode="ave"),
                        b.L.Dense(1)])
    return m, T, F, {}


# ---------------------------------------------------------------- Attention
for _sm in ["dot", "concat"]:
    for _scale in [False, True]:
        for _causal in [False, True]:
            for _three in [False, True]:
                if (_sm, _scale, _causal, _three) not in {
                    ("dot", False, False, False), ("dot", True, True, False),
                    ("dot", False, True, True), ("concat", False, False, True),
                    ("concat", True, True, True), ("concat", True, False, False),
                }:
                    continue

                def _f(b, _sm=_sm, _scale=_scale, _causal=_causal, _three=_three):
                    T, F = 5, 2
                    i = b.inp(T, F)
                    q = b.L.LSTM(4, return_sequences=True)(i)
                    v = b.L.GRU(4, return_sequences=True)(i)
                    args = [q, v]
                    if _three:
                        args.append(b.L.TimeDistributed(b.L.Dense(4))(i))
                    a = b.L.Attention(use_scale=_scale, score_mode=_sm)(args, use_causal_mask=_causal)
                    p = b.L.GlobalAveragePooling1D()(a)
                    return b.K.Model(i, b.L.Dense(1)(p)), T, F, {}
                _f.__name__ = (f"attn_{_sm}{'_scale' if _scale else ''}"
                               f"{'_causal' if _causal else ''}{'_qvk' if _three else '_qv'}")
                builder()(_f)


@builder()
def attn_self_flatten(b):
    T, F = 3, 2
    i = b.inp(T, F)
    h = b.L.LSTM(3, return_sequences=True)(i)
    a = b.L.Attention()([h, h])
    return b.K.Model(i, b.L.Dense(2)(b.L.Flatten()(a))), T, F, {}


# ---------------------------------------------------------------- normalisation etc.
@builder(fit=True)
def bn_ln_dropout_fit(b):
    T, F = 6, 3
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(5, return_sequences=True),
                        b.L.LayerNormalization(epsilon=1e-5),
                        b.L.Dropout(0.3), b.L.LSTM(4), b.L.BatchNormalization(momentum=0.5),
                        b.L.Dropout(0.1), b.L.Dense(2)])
    return m, T, F, {}


@builder(fit=True)
def bn_options_fit(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.GRU(4),
                        b.L.BatchNormalization(center=False, epsilon=0.01),
                        b.L.Dense(3, activation="elu"),
                        b.L.BatchNormalization(scale=False),
                        b.L.LayerNormalization(center=False, scale=False),
                        b.L.Dense(1)])
    return m, T, F, {}


@builder(fit=True)
def bn_sequence_fit(b):
    # BatchNormalization / LayerNormalization over (batch, time, features)
    T, F = 5, 3
    m = b.K.Sequential([b.inp(T, F), b.L.BatchNormalization(), b.L.LSTM(4, return_sequences=True),
                        b.L.LayerNormalization(), b.L.GlobalMaxPooling1D(), b.L.Dense(1)])
    return m, T, F, {}


# ---------------------------------------------------------------- merges, poolings
@builder()
def merges_functional(b):
    T, F = 6, 4
    i = b.inp(T, F, "x_in")
    a = b.L.LSTM(3, return_sequences=True)(i)
    g = b.L.GRU(3, return_sequences=True)(i)
    s = b.L.Add()([a, g])
    c = b.L.Concatenate(axis=-1)([s, a, i])
    p = b.L.Concatenate()([b.L.GlobalAveragePooling1D()(c), b.L.GlobalMaxPooling1D()(c)])
    return b.K.Model(i, b.L.Dense(2, activation="sigmoid")(p)), T, F, {}


@builder()
def concat_time_axis(b):
    T, F = 3, 2
    i = b.inp(T, F)
    a = b.L.LSTM(2, return_sequences=True)(i)
    g = b.L.GRU(2, return_sequences=True)(i)
    c = b.L.Concatenate(axis=1)([a, g])
    return b.K.Model(i, b.L.Dense(1)(b.L.Flatten()(c))), T, F, {}


@builder()
def input_to_dense(b):
    # Dense directly on a 3-D input, then pooling; Dense(…) on the time axis
    T, F = 4, 3
    m = b.K.Sequential([b.inp(T, F), b.L.Dense(5, activation="relu"), b.L.LSTM(2),
                        b.L.Dense(1)])
    return m, T, F, {}


@builder()
def timedistributed_stack(b):
    T, F = 5, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(4, return_sequences=True),
                        b.L.TimeDistributed(b.L.Dense(3, activation="gelu")),
                        b.L.TimeDistributed(b.L.Dense(1, use_bias=False))])
    return m, T, F, {}


@builder()
def unnamed_functional(b):
    # Keras picks all names; several layers of the same class
    T, F = 4, 2
    i = b.K.Input((T, F))
    x = b.L.LSTM(3, return_sequences=True)(i)
    x = b.L.LSTM(3, return_sequences=True)(x)
    y = b.L.Dense(3)(i)
    x = b.L.Add()([x, y])
    x = b.L.LSTM(2)(x)
    x = b.L.Dense(2)(x)
    return b.K.Model(i, b.L.Dense(1)(x)), T, F, {}


@builder()
def layer_order_differs(b):
    # layers created in a different order from the one they are called in
    T, F = 5, 2
    d_out = b.L.Dense(1, name="head")
    l2 = b.L.LSTM(3, name="second")
    l1 = b.L.LSTM(4, return_sequences=True, name="first")
    i = b.inp(T, F)
    return b.K.Model(i, d_out(l2(l1(i)))), T, F, {}


@builder()
def frozen_layer(b):
    T, F = 4, 2
    lstm = b.L.LSTM(3, trainable=False)
    m = b.K.Sequential([b.inp(T, F), lstm, b.L.Dense(1)])
    return m, T, F, {"fit": True}


@builder()
def nested_sequential(b):
    T, F = 5, 2
    inner = b.K.Sequential([b.L.LSTM(3, return_sequences=True), b.L.LSTM(2)], name="inner")
    i = b.inp(T, F)
    return b.K.Model(i, b.L.Dense(1)(inner(i))), T, F, {}


@builder()
def nested_sequential_with_input(b):
    T, F = 4, 3
    inner = b.K.Sequential([b.inp(T, F), b.L.GRU(3), b.L.Dense(2)], name="body")
    i = b.inp(T, F)
    return b.K.Model(i, b.L.Dense(1)(inner(i))), T, F, {}


@builder()
def nested_functional(b):
    T, F = 4, 2
    ii = b.inp(T, F)
    inner = b.K.Model(ii, b.L.LSTM(3)(ii), name="encoder")
    m = b.K.Sequential([b.inp(T, F), inner, b.L.Dense(1)])
    return m, T, F, {}


@builder(fit=True)
def dropouts_regularizers_fit(b):
    # training-only options: dropout, recurrent_dropout, regularizers
    T, F = 5, 2
    m = b.K.Sequential([b.inp(T, F),
                        b.L.LSTM(4, dropout=0.2, recurrent_dropout=0.1, return_sequences=True,
                                 kernel_regularizer=b.K.regularizers.L2(0.01)),
                        b.L.GRU(3, dropout=0.1, recurrent_dropout=0.2,
                                bias_regularizer=b.K.regularizers.L1(0.01)),
                        b.L.Dense(1, kernel_regularizer=b.K.regularizers.L1L2(0.01, 0.01))])
    return m, T, F, {}


@builder()
def variable_timesteps(b):
    # Input((None, F)): any sequence length
    T, F = 6, 2
    i = b.K.Input((None, F))
    x = b.L.LSTM(3, return_sequences=True)(i)
    x = b.L.Bidirectional(b.L.GRU(2))(x)
    return b.K.Model(i, b.L.Dense(1)(x)), T, F, {}


@builder()
def big_batch_threads(b):
    # enough samples for lstmkit to split the batch over threads
    T, F = 4, 3
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(6, return_sequences=True,
                                              recurrent_activation="hard_sigmoid"),
                        b.L.GRU(5), b.L.Dense(2, activation="hard_sigmoid")])
    return m, T, F, {"n": 70}


@builder()
def odd_layer_names(b):
    T, F = 3, 2
    i = b.inp(T, F, "in.put")
    x = b.L.LSTM(3, return_sequences=True, name="lstm.a")(i)
    x = b.L.LayerNormalization(name="Norm-1")(x)
    x = b.L.GlobalAveragePooling1D(name="pool.avg")(x)
    return b.K.Model(i, b.L.Dense(1, name="Dense-Out")(x), name="odd.model"), T, F, {}


# ---------------------------------------------------------------- random architectures
def random_arch(b, functional):
    """A seeded random stack: sequence blocks, a reducer (or none: sequence
    output), head blocks; functional ones add self-attention, residual Add and
    Concatenate branches."""
    r, L = b.r, b.L
    T, F = r.choice([1, 2, 5, 8]), r.choice([1, 2, 3, 5])
    i = b.inp(T, F)
    x, width, opts = i, F, {}
    out = [] if not functional else None  # Sequential: the layer list

    def apply(layer, new_width):
        nonlocal x, width
        if functional:
            x = layer(x)
        else:
            out.append(layer)
        width = new_width

    def rnn(rs):
        u = b.units() + 1
        kind = r.choice(["lstm", "gru", "bi"])
        common = dict(return_sequences=rs, use_bias=r.random() < 0.8,
                      go_backwards=r.random() < 0.25, activation=r.choice(ACTS))
        if kind == "lstm":
            return L.LSTM(u, recurrent_activation=r.choice(["sigmoid", "hard_sigmoid", "tanh",
                                                            "relu", "softsign", "linear"]),
                          unit_forget_bias=r.random() < 0.7, **common), u
        if kind == "gru":
            return L.GRU(u, recurrent_activation=r.choice(["sigmoid", "hard_sigmoid", "tanh",
                                                           "softsign"]),
                         reset_after=r.random() < 0.6, **common), u
        mode = r.choice(["concat", "sum", "mul", "ave"])
        inner = r.choice([L.LSTM, L.GRU])(u, return_sequences=rs, activation=r.choice(ACTS))
        return L.Bidirectional(inner, merge_mode=mode), (2 * u if mode == "concat" else u)

    def common_block(rank3):
        k = r.choice(["dense", "dropout", "ln", "bn"] + (["td"] if rank3 else []))
        u = b.units() + 1
        if k == "dense":
            apply(L.Dense(u, activation=r.choice(ACTS), use_bias=r.random() < 0.8), u)
        elif k == "td":
            apply(L.TimeDistributed(L.Dense(u, activation=r.choice(ACTS))), u)
        elif k == "dropout":
            apply(L.Dropout(r.choice([0.1, 0.3, 0.5])), width)
        elif k == "ln":
            apply(L.LayerNormalization(epsilon=r.choice([1e-3, 1e-5]),
                                       center=r.random() < 0.8, scale=r.random() < 0.8), width)
        else:
            opts["fit"] = True  # moving statistics away from their initial values
            apply(L.BatchNormalization(momentum=r.choice([0.5, 0.9, 0.99]),
                                       center=r.random() < 0.8, scale=r.random() < 0.8), width)

    def branch_block(rank3):
        nonlocal x, width
        k = r.choice(["add", "concat"] + (["attn"] if rank3 else []))
        if k == "add":
            x = L.Add()([x, L.Dense(width, activation=r.choice(ACTS))(x)])
        elif k == "concat":
            u = b.units()
            y = (L.LSTM(u, return_sequences=True)(x) if rank3 else L.Dense(u)(x))
            x = L.Concatenate()([x, y])
            width += u
        else:
            a = L.Attention(use_scale=r.random() < 0.5, score_mode=r.choice(["dot", "concat"]))
            x = a([x, x], use_causal_mask=r.random() < 0.5)

    for _ in range(r.randint(1, 3)):
        roll = r.random()
        if roll < 0.5:
            layer, w = rnn(True)
            apply(layer, w)
        elif functional and roll < 0.75:
            branch_block(True)
        else:
            common_block(True)
    seq_out = r.random() < 0.2
    if not seq_out:
        k = r.choice(["rnn", "rnn", "gap", "gmp", "flatten"])
        if k == "rnn":
            layer, w = rnn(False)
            apply(layer, w)
        elif k == "gap":
            apply(L.GlobalAveragePooling1D(), width)
        elif k == "gmp":
            apply(L.GlobalMaxPooling1D(), width)
        else:
            apply(L.Flatten(), width * T)
        for _ in range(r.randint(0, 2)):
            if functional and r.random() < 0.4:
                branch_block(False)
            else:
                common_block(False)
    head = L.Dense(r.randint(1, 3))
    if seq_out:
        head = L.TimeDistributed(head)
    apply(head, 0)
    model = b.K.Model(i, x) if functional else b.K.Sequential([i] + out)
    return model, T, F, opts


for _k in range(16):
    def _f(b, _k=_k):
        return random_arch(b, functional=_k % 2 == 1)
    _f.__name__ = f"random_{'functional' if _k % 2 else 'sequential'}_{_k:02d}"
    builder()(_f)


@builder()
def concat_positive_axes(b):
    T, F = 3, 2
    i = b.inp(T, F)
    a = b.L.LSTM(2, return_sequences=True)(i)
    g = b.L.GRU(2, return_sequences=True)(i)
    c1 = b.L.Concatenate(axis=2)([a, g])
    c2 = b.L.Concatenate(axis=-2)([c1, b.L.TimeDistributed(b.L.Dense(4))(i)])
    h = b.L.Concatenate(axis=1)([b.L.GlobalAveragePooling1D()(c2), b.L.LSTM(3)(c2)])
    return b.K.Model(i, b.L.Dense(1)(h)), T, F, {}


@builder()
def attention_scores_output(b):
    T, F = 4, 2
    i = b.inp(T, F)
    q = b.L.LSTM(3, return_sequences=True)(i)
    o, sc = b.L.Attention(use_scale=True)([q, q], return_attention_scores=True)
    h = b.L.Concatenate()([b.L.Flatten()(o), b.L.Flatten()(sc)])
    return b.K.Model(i, b.L.Dense(2)(h)), T, F, {}


@builder()
def bidirectional_states(b):
    T, F = 5, 2
    i = b.inp(T, F)
    outs = b.L.Bidirectional(b.L.LSTM(3, return_state=True))(i)
    h = b.L.Concatenate()(list(outs))
    return b.K.Model(i, b.L.Dense(1)(h)), T, F, {}


@builder()
def lstm_state_from_dense(b):
    # initial_state computed by other layers
    T, F = 4, 3
    i = b.inp(T, F)
    p = b.L.GlobalAveragePooling1D()(i)
    h0 = b.L.Dense(3, activation="tanh")(p)
    c0 = b.L.Dense(3)(p)
    y = b.L.LSTM(3, return_sequences=True)(i, initial_state=[h0, c0])
    g = b.L.GRU(3)(y, initial_state=[h0])
    return b.K.Model(i, b.L.Dense(1)(g)), T, F, {}


@builder()
def sequential_input_shape_kwarg(b):
    # the first layer given input_shape= (Keras 2 style) instead of an Input
    T, F = 4, 2
    m = b.K.Sequential([b.L.LSTM(3, input_shape=(T, F), return_sequences=True),
                        b.L.LSTM(2), b.L.Dense(1)])
    return m, T, F, {}


@builder(expect_error=["half", "dtype", "float16"])
def mixed_precision_layer(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3), b.L.Dense(1, dtype="float16", name="half")])
    return m, T, F, {}


@builder(fit=True)
def nested_deep_bn_fit(b):
    # nesting two deep, BatchNormalization (non-trainable moving statistics)
    # and a frozen layer inside: a legacy .h5 lists a nested model's trainable
    # variables first, then the others
    T, F = 5, 3
    inner2 = b.K.Sequential([b.L.LSTM(4, return_sequences=True), b.L.BatchNormalization(),
                             b.L.TimeDistributed(b.L.Dense(3, trainable=False))], name="inner2")
    j = b.inp(T, F)
    h = inner2(j)
    h = b.L.Bidirectional(b.L.GRU(2))(h)
    h = b.L.BatchNormalization(momentum=0.5)(h)
    inner1 = b.K.Model(j, b.L.Dense(3, trainable=False)(h), name="inner1")
    m = b.K.Sequential([b.inp(T, F), inner1, b.L.BatchNormalization(), b.L.Dense(1)],
                       name="outer")
    return m, T, F, {}


@builder()
def nested_sequential_in_sequential(b):
    T, F = 4, 2
    inner = b.K.Sequential([b.L.GRU(3, return_sequences=True), b.L.LSTM(2)], name="block")
    m = b.K.Sequential([b.inp(T, F), inner, b.L.Dense(2)])
    return m, T, F, {}


# ---------------------------------------------------------------- Conv1D, 1-D pooling
for _k in range(6):
    def _f(b, _k=_k):
        # a CNN-LSTM with random Conv1D and pooling options
        T, F = b.r.randint(8, 14), b.r.randint(1, 3)
        pad = b.pick(["valid", "same", "causal"])
        strides, dil = b.pick([(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)])
        conv = b.L.Conv1D(b.units() + 1, b.r.randint(1, 4), strides=strides, dilation_rate=dil,
                          padding=pad, activation=b.pick(ACTS), use_bias=b.r.random() < 0.8)
        pool = b.pick([b.L.MaxPooling1D, b.L.AveragePooling1D])(
            b.r.randint(1, 3), strides=b.pick([None, 1, 2]), padding=b.pick(["valid", "same"]))
        m = b.K.Sequential([b.inp(T, F), conv, pool, b.L.LSTM(b.units()), b.L.Dense(1)])
        return m, T, F, {}
    _f.__name__ = f"conv1d_lstm_{_k}"
    builder()(_f)


# ---------------------------------------------------------------- must be refused
@builder(expect_error=["gru_swish_gates", "recurrent_activation", "swish"])
def gru_rec_swish(b):
    # GRU gates need an activation whose output gives its derivative
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.GRU(3, recurrent_activation="swish",
                                             name="gru_swish_gates"), b.L.Dense(1)])
    return m, T, F, {}


@builder(expect_error=["lstm_mish", "activation", "mish"])
def lstm_mish(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3, activation="mish", name="lstm_mish"),
                        b.L.Dense(1)])
    return m, T, F, {}


@builder(expect_error=["2 inputs"])
def two_inputs(b):
    T, F = 4, 2
    i1, i2 = b.inp(T, F), b.inp(T, F)
    x = b.L.Concatenate()([b.L.LSTM(2)(i1), b.L.LSTM(2)(i2)])
    return b.K.Model([i1, i2], b.L.Dense(1)(x)), T, F, {}

@builder(expect_error=["2 outputs"])
def two_outputs(b):
    T, F = 4, 2
    i = b.inp(T, F)
    h = b.L.LSTM(3)(i)
    return b.K.Model(i, [b.L.Dense(1)(h), b.L.Dense(2)(h)]), T, F, {}


@builder(expect_error=["constrained", "kernel_constraint"])
def lstm_constraint(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3, kernel_constraint="non_neg", name="constrained"),
                        b.L.Dense(1)])
    return m, T, F, {}


@builder(expect_error=["conv_groups", "groups"])
def conv1d_groups(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.Conv1D(2, 2, groups=2, name="conv_groups"),
                        b.L.LSTM(2), b.L.Dense(1)])
    return m, T, F, {}


@builder(expect_error=["conv_nonneg", "kernel_constraint"])
def conv1d_constraint(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.Conv1D(2, 2, kernel_constraint="non_neg",
                                                name="conv_nonneg"), b.L.LSTM(2), b.L.Dense(1)])
    return m, T, F, {}


@builder(expect_error=["ln_rms", "rms_scaling"], keras3_only=True)
def layernorm_rms(b):
    T, F = 4, 2
    m = b.K.Sequential([b.inp(T, F), b.L.LSTM(3), b.L.LayerNormalization(rms_scaling=True,
                                                                         name="ln_rms"),
                        b.L.Dense(1)])
    return m, T, F, {}


# the regression subset committed under tests/data/sweep/ (tests/it/keras_sweep.rs):
# one model for each fix the sweep led to
SUBSET = ["lstm_rec_tanh", "gru_rec_softsign", "nested_sequential", "nested_deep_bn_fit",
          "gru_hard_sigmoid", "bn_sequence_fit", "initializer_parameters"]


def build_one(K, name, fn, seed, legacy):
    K.utils.set_random_seed(seed)
    b = B(K, seed, legacy)
    model, T, F, extra = fn(b)
    return model, T, F, extra


def generate(out, only, subset, with_tfk):
    os.makedirs(out, exist_ok=True)
    manifest = []
    backends = [("k3", K3)]
    if with_tfk:
        if K2 is None:
            print("note: tf_keras is not importable: tf.keras 2 models skipped")
        else:
            backends.append(("tk2", K2))
    for name, fn, opts in BUILDERS:
        if only and name not in only:
            continue
        if subset and name not in SUBSET:
            continue
        for tag, K in backends:
            if tag == "tk2" and opts.get("keras3_only"):
                continue
            seed = zlib.crc32(name.encode()) % 100_000  # stable when builders are added
            stem = f"{tag}_{name}"
            try:
                entry = make_one(K, tag, name, fn, opts, seed, stem, out)
            except Exception as e:  # a model this Keras cannot build, fit or save
                print(f"{stem}: skipped, {tag} cannot make it: {type(e).__name__}: {e}")
                continue
            manifest.append(entry)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def make_one(K, tag, name, fn, opts, seed, stem, out):
    """Builds, (fits,) saves one model and its x/y; returns its manifest entry."""
    model, T, F, extra = build_one(K, name, fn, seed, tag == "tk2")
    o = dict(opts)
    o.update(extra)
    rs = np.random.RandomState(seed)
    if o.get("fit"):
        model.compile(optimizer="adam", loss="mse")
        yt_shape = (64,) + tuple(d for d in model.output_shape[1:])
        model.fit(rs.randn(64, T, F).astype("float32"),
                  rs.randn(*yt_shape).astype("float32"),
                  epochs=1, batch_size=16, verbose=0)
    x = rs.randn(o.get("n", 6), T, F).astype("float32")
    files = []
    # tf.keras 2 writes .keras files too (2.13+), with its own config layout
    model.save(os.path.join(out, stem + ".keras"))
    files.append(stem + ".keras")
    model.save(os.path.join(out, stem + ".h5"))
    files.append(stem + ".h5")
    np.save(os.path.join(out, stem + "_x.npy"), x)
    if "expect_error" not in o:
        y = model.predict(x, verbose=0)
        np.save(os.path.join(out, stem + "_y.npy"), np.asarray(y, dtype=np.float32))
    return {"name": stem, "files": files, "x": stem + "_x.npy",
            "y": None if "expect_error" in o else stem + "_y.npy",
            "expect_error": o.get("expect_error")}


def check(out, manifest, binary, tol):
    npass = nfail = 0
    worst = 0.0
    rows = []
    tmp = tempfile.mkdtemp(prefix="lstmkit-sweep-")
    for m in manifest:
        for f in m["files"]:
            yp = os.path.join(tmp, f + ".pred.npy")
            r = subprocess.run([binary, "predict", "--model", os.path.join(out, f),
                                "--input", os.path.join(out, m["x"]), "--output", yp],
                               capture_output=True, text=True)
            err = (r.stderr or "").strip().splitlines()
            msg = next((ln for ln in err if ln.startswith("error")), err[-1] if err else "")
            if m["expect_error"]:
                ok = r.returncode == 1 and all(w in msg for w in m["expect_error"])
                ok = ok and "panick" not in r.stderr
                status = "refused" if ok else "NOT REFUSED AS EXPECTED"
                rows.append((f, ok, status + ": " + msg))
            elif r.returncode != 0:
                ok = False
                rows.append((f, False, "ERROR " + msg))
            else:
                want = np.load(os.path.join(out, m["y"]))
                got = np.load(yp)
                if want.shape != got.shape:
                    ok = False
                    rows.append((f, False, f"shape {got.shape} != Keras {want.shape}"))
                else:
                    d = float(np.max(np.abs(want - got)))
                    # float32 carries ~7 digits: outputs far from 1 (an untrained
                    # model with unbounded gates can reach tens) get the limit
                    # relative to their largest magnitude
                    scale = max(1.0, float(np.max(np.abs(want))))
                    worst = max(worst, d)
                    ok = d <= tol * scale
                    note = f" (max|y| = {scale:.1f})" if scale > 1.0 else ""
                    rows.append((f, ok, f"max|d| = {d:.2e}{note}"))
            npass += ok
            nfail += not ok
    shutil.rmtree(tmp, ignore_errors=True)
    for f, ok, s in rows:
        print(f"{'ok  ' if ok else 'FAIL'} {f:48s} {s}")
    print(f"{npass} passed, {nfail} failed (worst max abs error {worst:.2e})")
    return nfail == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--lstmkit", help="lstmkit binary to compare with")
    ap.add_argument("--only", default="", help="comma-separated builder names")
    ap.add_argument("--subset", action="store_true", help="only the committed regression subset")
    ap.add_argument("--no-tfkeras", action="store_true", help="skip the tf.keras 2 models")
    ap.add_argument("--check-only", action="store_true", help="reuse the files in --out")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    only = set(filter(None, a.only.split(",")))
    if a.check_only:
        with open(os.path.join(a.out, "manifest.json")) as f:
            manifest = json.load(f)
        if only:
            manifest = [m for m in manifest if m["name"].split("_", 1)[1] in only]
    else:
        manifest = generate(a.out, only, a.subset, not a.no_tfkeras)
        print(f"wrote {sum(len(m['files']) for m in manifest)} model files "
              f"({len(manifest)} models) to {a.out}")
    if a.lstmkit:
        sys.exit(0 if check(a.out, manifest, a.lstmkit, a.tol) else 1)


if __name__ == "__main__":
    main()
