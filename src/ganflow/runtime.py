"""Process set-up shared by the stages that run TensorFlow: quiet logs, seeds, device report.

Import this module before TensorFlow. ``setup(seed)`` seeds Python, numpy and Keras (which seeds
the layers' initializers and dropout generators) and enables TensorFlow op determinism, so a
CPU run at a fixed thread count is bitwise reproducible.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def setup(seed: int, deterministic: bool = True) -> str:
    """Seed everything from ``seed`` (and, by default, enable op determinism); return a
    one-line description of the device in use."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
        return f"GPU: {', '.join(g.name for g in gpus)}"
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    return f"CPU ({threads} threads; no GPU visible to TensorFlow)"
