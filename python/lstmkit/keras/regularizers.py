"""Weight regularisers (Keras' ``keras.regularizers``)."""


class Regularizer:
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = float(l1)
        self.l2 = float(l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def to_keras(self):
        if self.l1 and self.l2:
            return {"class_name": "L1L2", "config": {"l1": self.l1, "l2": self.l2}}
        if self.l1:
            return {"class_name": "L1", "config": {"l1": self.l1}}
        return {"class_name": "L2", "config": {"l2": self.l2}}


def l2(l2=0.01):
    return Regularizer(l2=l2)


def l1(l1=0.01):
    return Regularizer(l1=l1)


def l1_l2(l1=0.01, l2=0.01):
    return Regularizer(l1=l1, l2=l2)


L1, L2, L1L2 = l1, l2, l1_l2
