"""lstmkit.keras: building, training, saving, loading, weights."""

import numpy as np
import pytest

import lstmkit
from lstmkit.keras import callbacks, layers, optimizers, regularizers
from lstmkit.keras.models import Model, Sequential, load_model


def data(n=64, t=10, f=1, seed=0):
    r = np.random.default_rng(seed)
    x = r.random((n, t, f), dtype=np.float32)
    return x, x[:, -1, :1].copy()


def m1():
    m = Sequential([layers.LSTM(16, activation="relu", input_shape=(10, 1)), layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    return m


def test_fit_history_and_determinism():
    x, y = data()
    runs = []
    for _ in range(2):
        m = m1()
        h = m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                  callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=10),
                             callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5)])
        assert set(h.history) == {"loss", "val_loss", "learning_rate"}
        assert len(h.history["loss"]) == 3 and h.epoch == [0, 1, 2]
        assert h.history["loss"][-1] < h.history["loss"][0]
        runs.append(m.predict(x))
    assert runs[0].dtype == np.float32 and runs[0].shape == (64, 1)
    assert np.array_equal(runs[0], runs[1])  # same seed, same bits


def test_float64_and_lists_equal_float32():
    x, y = data()
    m = m1()
    a = m.predict(x)
    assert np.array_equal(m.predict(x.astype(np.float64)), a)
    assert np.array_equal(m.predict(np.asfortranarray(x)), a)
    assert np.array_equal(m.predict(x.tolist()), a)


def test_early_stopping_stops():
    x, y = data()
    m = m1()
    h = m.fit(x, np.zeros_like(y), epochs=50, verbose=0, validation_data=(x, y),
              callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=1)])
    assert len(h.history["loss"]) < 50


@pytest.mark.parametrize("ext", ["keras", "h5", "lstmkit"])
def test_save_load_same_predictions(tmp, ext):
    x, y = data()
    m = m1()
    m.fit(x, y, epochs=1, verbose=0)
    p = tmp / f"m.{ext}"
    m.save(str(p))
    assert np.array_equal(load_model(p).predict(x), m.predict(x))


def test_weights_round_trip():
    x, _ = data()
    a, b = m1(), Sequential([layers.LSTM(16, activation="relu", input_shape=(10, 1)), layers.Dense(1)])
    ws = a.get_weights()
    assert [w.shape for w in ws] == [(1, 64), (16, 64), (64,), (16, 1), (1,)]
    b.set_weights(ws)
    assert np.array_equal(a.predict(x), b.predict(x))
    assert a.count_params() == sum(w.size for w in ws)


def test_layers_and_options():
    x, y = data(f=3)
    m = Sequential()
    m.add(layers.LSTM(12, activation="relu", return_sequences=True, input_shape=(10, 3),
                      kernel_regularizer=regularizers.l2(0.01)))
    m.add(layers.Dropout(0.2))
    m.add(layers.GRU(8))
    m.add(layers.BatchNormalization())
    m.add(layers.Dense(1))
    m.compile(optimizer=optimizers.Adam(learning_rate=0.01, clipvalue=0.5), loss="mae")
    h = m.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert len(h.history["loss"]) == 2
    assert np.isfinite(m.evaluate(x, y))
    i = layers.Input(shape=(10, 3))
    c = layers.Conv1D(4, 3, activation="relu")(i)
    hh = layers.Bidirectional(layers.SimpleRNN(5, return_sequences=True))(c)
    a = layers.Attention()([hh, hh])
    o = layers.Dense(1)(layers.GlobalAveragePooling1D()(a))
    fm = Model(inputs=i, outputs=o)
    assert fm.predict(x).shape == (64, 1)
    assert fm.output_shape == (None, 1)


def test_summary_prints(capsys):
    m1().summary()
    out = capsys.readouterr().out
    assert "LSTM" in out and "Total params" in out


def test_bad_inputs_raise():
    m = m1()
    x, y = data()
    with pytest.raises(ValueError, match="3-dimensional"):
        m.predict(x[0])
    with pytest.raises(ValueError, match="shape|features|input"):
        m.predict(np.zeros((4, 10, 2), np.float32))
    with pytest.raises(ValueError, match="dtype"):
        m.predict(np.array([[["a"]]]))
    with pytest.raises(ValueError, match="NaN"):
        m.predict(np.full((2, 10, 1), np.nan, np.float32))
    with pytest.raises(ValueError):
        m.fit(x, y[:10], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="compile"):
        Sequential([layers.Dense(1, input_shape=(10, 1))]).fit(x, y, verbose=0)
    with pytest.raises(ValueError):
        Sequential([layers.LSTM(8, no_such_argument=3, input_shape=(10, 1))]).predict(x)
    with pytest.raises(ValueError):
        Sequential([layers.LSTM(-4, input_shape=(10, 1))]).predict(x)
    with pytest.raises(ValueError, match="loss|unknown"):
        m1().compile(optimizer="adam", loss="no_such_loss")
    with pytest.raises(ValueError, match="optimizer|unknown"):
        m1().compile(optimizer="no_such_opt", loss="mse")
    with pytest.raises(ValueError, match="not built"):
        Sequential([layers.Dense(1)]).predict(x)
    with pytest.raises(ValueError):
        m.fit(x, y, epochs=1, batch_size=0, verbose=0)
    with pytest.raises(ValueError):
        m.fit(x, y, epochs=1, validation_split=1.5, verbose=0)


def test_file_errors(tmp):
    with pytest.raises(FileNotFoundError):
        load_model(tmp / "missing.keras")
    bad = tmp / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(lstmkit.Error):
        load_model(bad)
    with pytest.raises(ValueError, match="keras"):
        m1().save(str(tmp / "m.txt"))
    assert not (tmp / "m.txt").exists()


def test_two_clips_refused_as_in_keras():
    with pytest.raises(ValueError, match="only one of clipnorm"):
        m1().compile(optimizer=optimizers.Adam(clipnorm=1.0, clipvalue=0.5), loss="mse")
