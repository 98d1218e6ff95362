"""Builds tests/data/layers_mix.{keras,h5} and its x/y .npy files with Keras 3.

A functional model that uses every layer class of the layer registry beyond
LSTM/Dense, with non-default options: GRU(reset_after=False), Bidirectional(GRU,
merge_mode="sum", return_sequences), Attention(score_mode="concat", use_scale,
three inputs, use_causal_mask), Dropout(noise_shape), TimeDistributed(Dense),
LayerNormalization, BatchNormalization (moving statistics moved by a short fit),
Concatenate, Add, GlobalAveragePooling1D, GlobalMaxPooling1D, Flatten.
Run: /root/.cache/lstmkit-bench/bin/python tests/data/make_layer_models.py
"""
import os

import keras
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
keras.utils.set_random_seed(7)
i = keras.Input((5, 3), name="input")
g = keras.layers.GRU(4, return_sequences=True, reset_after=False, name="gru_ra0")(i)
b = keras.layers.Bidirectional(
    keras.layers.GRU(4, return_sequences=True), merge_mode="sum", name="bi_gru"
)(i)
k = keras.layers.TimeDistributed(keras.layers.Dense(4), name="td")(i)
a = keras.layers.Attention(use_scale=True, score_mode="concat", name="att")(
    [g, b, k], use_causal_mask=True
)
d = keras.layers.Dropout(0.3, noise_shape=(None, 1, 4), name="drop")(a)
n = keras.layers.LayerNormalization(name="ln")(d)
c = keras.layers.Concatenate(name="cat")([n, g])
p1 = keras.layers.GlobalAveragePooling1D(name="gap")(c)
p2 = keras.layers.GlobalMaxPooling1D(name="gmp")(c)
f = keras.layers.Flatten(name="flat")(c)
s = keras.layers.Add(name="add")(
    [keras.layers.Dense(3, name="d1")(p1), keras.layers.Dense(3, name="d2")(p2),
     keras.layers.Dense(3, name="d3")(f)]
)
s = keras.layers.BatchNormalization(name="bn")(s)
o = keras.layers.Dense(2, name="out")(s)
m = keras.Model(i, o, name="layers_mix")
m.compile("adam", "mse")
rs = np.random.RandomState(0)
xt = rs.randn(64, 5, 3).astype("float32")
yt = rs.randn(64, 2).astype("float32")
m.fit(xt, yt, epochs=3, batch_size=16, verbose=0)
x = rs.randn(8, 5, 3).astype("float32")
y = m.predict(x, verbose=0)
m.save(os.path.join(here, "layers_mix.keras"))
m.save(os.path.join(here, "layers_mix.h5"))
np.save(os.path.join(here, "layers_mix_x.npy"), x)
np.save(os.path.join(here, "layers_mix_y.npy"), y)
print("y", y.shape)
