"""Callbacks with Keras' names and defaults (``keras.callbacks``)."""


class Callback:
    def to_spec(self):
        return {"class_name": type(self).__name__, "config": dict(self.__dict__)}


class EarlyStopping(Callback):
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.patience = int(patience)
        self.verbose = int(verbose)
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)


class ReduceLROnPlateau(Callback):
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = int(verbose)
        self.mode = mode
        self.min_delta = float(kwargs.pop("epsilon", min_delta))
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        if kwargs:
            raise ValueError(f"ReduceLROnPlateau: unknown argument(s) {sorted(kwargs)}")


class History:
    """What ``fit`` returns: ``.history`` maps ``loss``, ``val_loss``,
    ``learning_rate`` to one value per epoch, ``.epoch`` the epoch numbers."""

    def __init__(self, d, model=None):
        self.epoch = list(d["epoch"])
        self.history = {"loss": list(d["loss"])}
        if any(v is not None for v in d["val_loss"]):
            self.history["val_loss"] = list(d["val_loss"])
        self.history["learning_rate"] = list(d["learning_rate"])
        self.model = model
        self.params = {}
