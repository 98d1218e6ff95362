"""Optimisers with Keras' names and defaults (``keras.optimizers``)."""


class Optimizer:
    _name = "adam"
    _default_lr = 0.001

    def __init__(self, learning_rate=None, clipnorm=None, clipvalue=None, global_clipnorm=None, **kwargs):
        unknown = set(kwargs) - {"beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho", "name"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown argument(s) {sorted(unknown)}")
        self.learning_rate = self._default_lr if learning_rate is None else float(learning_rate)
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.kwargs = kwargs

    def to_spec(self):
        return {
            "name": self._name,
            "learning_rate": self.learning_rate,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }


class Adam(Optimizer):
    _name = "adam"


class AdamW(Optimizer):
    _name = "adamw"


class RMSprop(Optimizer):
    _name = "rmsprop"


class SGD(Optimizer):
    _name = "sgd"
    _default_lr = 0.01


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return {"name": identifier.lower()}
    raise ValueError(f"optimizer must be a name ('adam') or an optimizer object, got {identifier!r}")
