"""`.keras` / `.h5` files saved by Keras load and predict as the fixtures say
(../shared/fixtures/keras/: x.npy in, Keras' y.npy out)."""

import json

import numpy as np
import pytest

from conftest import FIXTURES
from lstmkit.keras.models import load_model

CASES = sorted(p.name for p in FIXTURES.glob("*") if (p / "y.npy").exists()) if FIXTURES.is_dir() else []


@pytest.mark.skipif(not CASES, reason=f"no Keras fixtures at {FIXTURES}")
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["model.keras", "model.h5"])
def test_fixture_predicts_as_keras(case, fmt):
    d = FIXTURES / case
    x, want = np.load(d / "x.npy"), np.load(d / "y.npy")
    got = load_model(d / fmt).predict(x, batch_size=64)
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max()))
    assert float(np.abs(got - want).max()) <= 1e-5 * scale, json.load(open(d / "case.json"))["architecture"]


def test_fixtures_present_in_ci():
    # the fixtures ship beside the repository (../shared); say so when they are missing
    if not CASES:
        pytest.skip(f"no fixtures at {FIXTURES}")
    assert len(CASES) >= 7
