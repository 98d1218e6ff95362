"""The seed guide's program (python/examples/seed_guide.py) end to end."""

import os
import subprocess
import sys

from conftest import ROOT


def test_seed_guide_runs(tmp):
    env = dict(os.environ, SEED_EPOCHS="2", SEED_OUT=str(tmp))
    r = subprocess.run([sys.executable, str(ROOT / "python" / "examples" / "seed_guide.py")],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "3-feature model output: (2, 1)" in out
    assert "attention model output: (2, 10, 1)" in out
    assert "epochs run: 2" in out
    assert (tmp / "lstm_regression.h5").is_file()
    assert "test metrics (ppm):" in out and "next 5 (ppm):" in out
