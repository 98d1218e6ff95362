"""Layers with Keras' names, arguments and defaults (``keras.layers``).

A layer here is its Keras config; the Rust engine builds it from that config
(the same importer that reads ``.keras`` files), so an argument the engine does
not support is refused there, naming the layer and the argument."""

import itertools

from .regularizers import Regularizer

_uid = itertools.count()


def _jsonable(v):
    if isinstance(v, Regularizer):
        return v.to_keras()
    if isinstance(v, Layer):
        return v.to_keras()
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


class KerasTensor:
    """A symbolic tensor of the functional API: ``Input(...)`` or a layer's output."""

    def __init__(self, layer, inputs, shape=None):
        self.layer = layer  # None for an Input
        self.inputs = inputs
        self.shape = shape


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None, **kwargs):
    if batch_shape is not None:
        shape = tuple(batch_shape)[1:]
    if shape is None:
        raise ValueError("Input: give shape=(timesteps, features)")
    if dtype not in (None, "float32"):
        raise ValueError(f"Input: lstmkit computes in float32, got dtype={dtype!r}")
    t = KerasTensor(None, [], tuple(shape))
    t.name = name or "input_layer"
    return t


class Layer:
    _positional = ()
    _call_kwargs = ()

    def __init__(self, *args, **kwargs):
        if len(args) > len(self._positional):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._positional)} positional arguments")
        for k, v in zip(self._positional, args):
            if k in kwargs:
                raise TypeError(f"{type(self).__name__}: {k} given twice")
            kwargs[k] = v
        self.input_shape = kwargs.pop("input_shape", None)
        if "input_dim" in kwargs:
            self.input_shape = (None, kwargs.pop("input_dim"))
        if "batch_input_shape" in kwargs:
            self.input_shape = tuple(kwargs.pop("batch_input_shape"))[1:]
        self.name = kwargs.pop("name", None)
        self.config = {k: _jsonable(v) for k, v in kwargs.items()}

    @property
    def class_name(self):
        return type(self).__name__

    def to_keras(self):
        cfg = dict(self.config)
        if self.name:
            cfg["name"] = self.name
        return {"class_name": self.class_name, "config": cfg}

    def __call__(self, inputs, **kwargs):
        if kwargs:
            raise ValueError(f"{self.class_name}: call arguments {sorted(kwargs)} are not supported")
        ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for t in ins:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"{self.class_name} called on {type(t).__name__}: expected Input(...) or a layer output")
        return KerasTensor(self, ins)


class _RNN(Layer):
    _positional = ("units",)


class LSTM(_RNN):
    pass


class GRU(_RNN):
    pass


class SimpleRNN(_RNN):
    pass


class Dense(Layer):
    _positional = ("units", "activation")


class Dropout(Layer):
    _positional = ("rate",)


class BatchNormalization(Layer):
    pass


class LayerNormalization(Layer):
    pass


class Conv1D(Layer):
    _positional = ("filters", "kernel_size", "strides", "padding")


class MaxPooling1D(Layer):
    _positional = ("pool_size", "strides", "padding")


class AveragePooling1D(MaxPooling1D):
    pass


class GlobalAveragePooling1D(Layer):
    pass


class GlobalMaxPooling1D(Layer):
    pass


class Flatten(Layer):
    pass


class Attention(Layer):
    pass


class Concatenate(Layer):
    pass


class Add(Layer):
    pass


class TimeDistributed(Layer):
    _positional = ("layer",)


class Bidirectional(Layer):
    _positional = ("layer", "merge_mode")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.setdefault("merge_mode", "concat")
