"""Python and the CLI on the same experiment: a model `lstmkit train` wrote
predicts the same bits from Python as through `lstmkit predict`."""

import subprocess

import numpy as np
import pytest

from conftest import ROOT, cli
from lstmkit.keras.models import load_model


@pytest.mark.skipif(cli() is None, reason="no lstmkit binary (cargo build first)")
def test_python_predict_equals_cli(tmp):
    out = tmp / "run"
    r = subprocess.run([cli(), "train", "--config", str(ROOT / "examples" / "m1_co2.toml"), "--out", str(out),
                        "--epochs", "2", "--seed", "7", "--quiet"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    x = np.random.default_rng(3).random((50, 10, 1), dtype=np.float32)
    np.save(tmp / "x.npy", x)
    r = subprocess.run([cli(), "predict", "--model", str(out), "--input", str(tmp / "x.npy"),
                        "--output", str(tmp / "y.npy"), "--scaled"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    want = np.load(tmp / "y.npy")
    got = load_model(out / "model.lstmkit").predict(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))  # bit for bit
