"""``keras.utils.set_random_seed``: the seed lstmkit draws weights and shuffles from."""

from .models import set_random_seed  # noqa: F401
