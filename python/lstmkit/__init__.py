"""lstmkit from Python: the Rust engine behind Keras' names (``lstmkit.keras``)."""

from ._core import Error, __version__  # noqa: F401
from . import keras  # noqa: F401

__all__ = ["Error", "keras", "__version__"]
