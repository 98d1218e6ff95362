import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(os.environ.get("LSTMKIT_KERAS_FIXTURES", ROOT.parent / "shared" / "fixtures" / "keras"))


@pytest.fixture
def tmp(request):
    """A fresh folder under target/tmp (never the system temp dir)."""
    d = ROOT / "target" / "tmp" / "pytest" / request.node.name
    if d.exists():
        import shutil
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def cli():
    """The lstmkit binary `cargo test` built (LSTMKIT_BIN overrides)."""
    b = os.environ.get("LSTMKIT_BIN", str(ROOT / "target" / "debug" / "lstmkit"))
    return b if os.path.exists(b) else None
