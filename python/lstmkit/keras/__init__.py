"""Keras' API over lstmkit: ``from lstmkit.keras.models import Sequential`` where
the guide writes ``from keras.models import Sequential``."""

from . import callbacks, layers, models, optimizers, regularizers, utils  # noqa: F401
from .models import Model, Sequential, load_model  # noqa: F401
from .layers import Input  # noqa: F401
