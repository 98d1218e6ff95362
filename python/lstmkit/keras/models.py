"""``Sequential``, ``Model`` (functional) and ``load_model`` (``keras.models``)."""

import json
import os
import sys

import numpy as np

from .. import _core
from .._arrays import as_f32, ref
from . import optimizers
from .callbacks import Callback, History
from .layers import KerasTensor, Layer


def _seed():
    """Keras draws fresh weights per model; lstmkit's are drawn from a seed:
    LSTMKIT_SEED when set (and ``keras.utils.set_random_seed``'s), else 42."""
    return int(os.environ.get("LSTMKIT_SEED", _state["seed"]))


_state = {"seed": 42}


class Model:
    """A Keras model over the lstmkit engine. Functional:
    ``Model(inputs=Input(...), outputs=...)``; see also ``Sequential``."""

    def __init__(self, inputs=None, outputs=None, name=None):
        self.name = name or "functional"
        self._core = None
        self._compiled = None
        self.history = None
        if inputs is not None or outputs is not None:
            if not isinstance(inputs, KerasTensor) or not isinstance(outputs, KerasTensor):
                raise ValueError("Model(inputs, outputs): one Input(...) tensor and one output tensor")
            self._inputs, self._outputs = inputs, outputs
            self._core = _core.CoreModel.from_config(json.dumps(self._functional_config()), _seed())

    # -- building -------------------------------------------------------
    def _functional_config(self):
        names, layers, order = {}, [], []
        inp = self._inputs

        def visit(t):
            if t.layer is None:
                if t is not inp:
                    raise ValueError("Model: the outputs depend on an Input that is not the model's input")
                return
            if id(t.layer) in names:
                return
            for s in t.inputs:
                visit(s)
            names[id(t.layer)] = None
            order.append(t)

        visit(self._outputs)
        taken = {inp.name}
        for t in order:
            base = t.layer.name or t.layer.class_name.lower()
            n, k = base, 1
            while n in taken:
                n, k = f"{base}_{k}", k + 1
            taken.add(n)
            names[id(t.layer)] = n

        def ref_of(s):
            h = inp.name if s.layer is None else names[id(s.layer)]
            return {"class_name": "__keras_tensor__", "config": {"keras_history": [h, 0, 0]}}

        layers.append({"class_name": "InputLayer", "name": inp.name, "inbound_nodes": [],
                       "config": {"batch_shape": [None, *inp.shape], "name": inp.name}})
        for t in order:
            lk = t.layer.to_keras()
            lk["config"]["name"] = names[id(t.layer)]
            args = [ref_of(t.inputs[0])] if len(t.inputs) == 1 else [[ref_of(s) for s in t.inputs]]
            lk["name"] = names[id(t.layer)]
            lk["inbound_nodes"] = [{"args": args, "kwargs": {}}]
            layers.append(lk)
        out = self._outputs
        return {"class_name": "Functional", "config": {
            "name": self.name, "layers": layers, "input_layers": [inp.name, 0, 0],
            "output_layers": [names[id(out.layer)] if out.layer else inp.name, 0, 0]}}

    def _built(self):
        if self._core is None:
            raise ValueError(f"model '{self.name}' is not built: give it an input shape "
                             "(input_shape= on the first layer, or an Input layer)")
        return self._core

    # -- Keras API --------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        if loss is None:
            raise ValueError("compile: give a loss (e.g. loss='mse')")
        if not isinstance(loss, str):
            raise ValueError(f"compile: loss must be a name such as 'mse', got {loss!r}")
        opt = optimizer.to_spec() if isinstance(optimizer, optimizers.Optimizer) else optimizers.get(optimizer)
        self._built().compile(json.dumps(opt), loss)
        self._compiled = (opt, loss)
        self.optimizer, self.loss = optimizer, loss

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0, **kwargs):
        unknown = set(kwargs) - {"steps_per_epoch", "validation_steps", "validation_freq", "validation_batch_size"}
        if unknown or any(kwargs.get(k) is not None for k in kwargs):
            raise ValueError(f"fit: argument(s) {sorted(kwargs)} are not supported by lstmkit")
        core = self._built()
        if self._compiled is None:
            raise ValueError("call compile(optimizer, loss) before fit")
        xa = as_f32(x, "fit: x", 3)
        ya = as_f32(y, "fit: y", (1, 2, 3))
        if ya.ndim == 1:
            ya = ya.reshape(-1, 1)
        if verbose == "auto":
            verbose = 1
        opts = {"epochs": int(epochs), "batch_size": 32 if batch_size is None else int(batch_size),
                "shuffle": bool(shuffle), "seed": _seed(), "validation_split": float(validation_split),
                "initial_epoch": int(initial_epoch), "verbose": int(verbose),
                "reshuffle_each_epoch": os.environ.get("LSTMKIT_RESHUFFLE", "1") != "0"}
        cbs = []
        for c in callbacks or []:
            if not isinstance(c, Callback):
                raise ValueError(f"fit: callbacks must be lstmkit.keras.callbacks objects, got {c!r}")
            cbs.append(c.to_spec())
        val = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("fit: validation_data must be (x_val, y_val)")
            vx = as_f32(validation_data[0], "fit: validation_data x", 3)
            vy = as_f32(validation_data[1], "fit: validation_data y", (1, 2, 3))
            if vy.ndim == 1:
                vy = vy.reshape(-1, 1)
            val = (ref(vx), ref(vy))
        sys.stdout.flush()
        h = History(json.loads(core.fit(ref(xa), ref(ya), json.dumps(opts), json.dumps(cbs), val)), self)
        self.history = h
        return h

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        core = self._built()
        xa = as_f32(x, "predict: x", 3)
        out = np.empty((xa.shape[0], *core.output_shape()), dtype=np.float32)
        core.predict(ref(xa), 32 if batch_size is None else int(batch_size),
                     out.__array_interface__["data"][0], out.size)
        return out

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", **kwargs):
        core = self._built()
        xa = as_f32(x, "evaluate: x", 3)
        ya = as_f32(y, "evaluate: y", (1, 2, 3))
        if ya.ndim == 1:
            ya = ya.reshape(-1, 1)
        if self._compiled is None:
            raise ValueError("call compile(optimizer, loss) before evaluate")
        return core.evaluate(ref(xa), ref(ya), 32 if batch_size is None else int(batch_size))

    def summary(self, print_fn=None, **kwargs):
        text = self._built().summary()
        (print_fn or print)(text)

    def count_params(self):
        return self._built().count_params()

    def get_weights(self):
        return [np.frombuffer(b, dtype="<f4").reshape(s).astype(np.float32) for s, b in self._built().get_weights()]

    def set_weights(self, weights):
        arrs = [as_f32(w, f"set_weights: weight {i}") for i, w in enumerate(weights)]
        self._built().set_weights([ref(a) for a in arrs])

    def save(self, filepath, overwrite=True, **kwargs):
        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise FileExistsError(path)
        self._built().save(path)

    @property
    def input_shape(self):
        return (None, *self._built().input_shape())

    @property
    def output_shape(self):
        return (None, *self._built().output_shape())

    def to_json(self):
        return self._built().to_config()


class Sequential(Model):
    """``Sequential([LSTM(50, activation='relu', input_shape=(10, 1)), Dense(1)])``
    or ``model.add(...)``; built once the input shape is known."""

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or "sequential")
        self._layers = []
        self._input_shape = None
        for l in layers or []:
            self.add(l)

    def add(self, layer):
        if isinstance(layer, KerasTensor) and layer.layer is None:
            self._input_shape = tuple(layer.shape)
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add: expected a layer, got {layer!r}")
        if not self._layers and layer.input_shape is not None:
            self._input_shape = tuple(layer.input_shape)
        self._layers.append(layer)
        self._core = None
        self._compiled = None

    def _built(self):
        if self._core is None and self._input_shape is not None and self._layers:
            cfg = {"class_name": "Sequential", "config": {"name": self.name, "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, *self._input_shape]}}]
                + [l.to_keras() for l in self._layers]}}
            self._core = _core.CoreModel.from_config(json.dumps(cfg), _seed())
        return super()._built()

    @property
    def layers(self):
        return list(self._layers)


def load_model(filepath, custom_objects=None, compile=True, **kwargs):
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    m = Model(name=os.path.basename(path))
    m._core = _core.CoreModel.load(path)
    # the file's optimizer is not restored: call compile(...) before fit
    return m


def set_random_seed(seed):
    _state["seed"] = int(seed)
