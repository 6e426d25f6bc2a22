"""The evaluation classifiers: small CNNs trained on the real MNIST and CIFAR-10 (all ten
classes), whose penultimate layer ("features") and softmax give the image-GAN metrics.

Inception weights cannot be downloaded here, so FID-style metrics are computed in the feature
space of these classifiers instead (an "FCD"): offline, reproducible, and specific to the data.
Inputs are images in [0, 1], NHWC.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ganflow.data import sources

DATASETS = ("mnist", "cifar10")
FEATURES = "features"


def _conv_block(filters: int, batchnorm: bool) -> list:
    block = []
    for _ in range(2):
        block.append(layers.Conv2D(filters, 3, padding="same", use_bias=not batchnorm))
        if batchnorm:
            block.append(layers.BatchNormalization())
        block.append(layers.ReLU())
    return [*block, layers.MaxPooling2D()]


def build_classifier(dataset: str) -> keras.Model:
    """MNIST: two conv blocks (32, 64) → Dense(128); CIFAR-10: three conv blocks with
    BatchNorm (32, 64, 128) and flip/shift augmentation → Dense(128). Then softmax over 10."""
    if dataset == "mnist":
        inputs = keras.Input((28, 28, 1))
        body = [*_conv_block(32, False), *_conv_block(64, False)]
    else:
        inputs = keras.Input((32, 32, 3))
        body = [
            layers.RandomFlip("horizontal"),
            layers.RandomTranslation(0.1, 0.1, fill_mode="reflect"),
            *_conv_block(32, True),
            *_conv_block(64, True),
            *_conv_block(128, True),
        ]
    head = [
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(128, activation="relu", name=FEATURES),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax", name="probs"),
    ]
    x = inputs
    for layer in (*body, *head):
        x = layer(x)
    return keras.Model(inputs, x, name=f"{dataset}_classifier")


def load_dataset(dataset: str, n_train: int | None = None) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as float32 NHWC in [0, 1] and int labels."""
    load = sources.load_mnist if dataset == "mnist" else sources.load_cifar10
    x_train, y_train, x_test, y_test = load()
    n_train = len(x_train) if n_train is None else min(n_train, len(x_train))

    def unit(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32) / 255.0
        return x[..., None] if x.ndim == 3 else x

    return unit(x_train[:n_train]), y_train[:n_train].astype(np.int32), unit(x_test), y_test.astype(np.int32)


def learning_rate(params, n_train: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """One cycle per run: a linear warm-up over the first epoch from lr/10 to ``lr``, then a
    cosine decay to 0 at the last step (short budgets end better than with step decay)."""
    per_epoch = -(-n_train // params.batch_size)
    total = params.epochs * per_epoch
    warm = per_epoch if params.epochs > 1 else 0
    if not warm:
        return keras.optimizers.schedules.CosineDecay(params.lr, total)
    return keras.optimizers.schedules.CosineDecay(params.lr / 10, total - warm, warmup_target=params.lr,
                                                  warmup_steps=warm)


def train_classifier(dataset: str, params, data: tuple[np.ndarray, ...], callbacks=()) -> tuple[keras.Model, dict]:
    """Train on the real training split; returns the model and its held-out test metrics."""
    x_train, y_train, x_test, y_test = data
    model = build_classifier(dataset)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate(params, len(x_train))),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=params.batch_size, epochs=params.epochs,
                        shuffle=True, verbose=0, callbacks=list(callbacks))
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    return model, {
        "test_accuracy": float(accuracy),
        "test_loss": float(loss),
        "train_accuracy": float(history.history["accuracy"][-1]),
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "epochs": params.epochs,
    }


def feature_model(classifier: keras.Model) -> keras.Model:
    """A model mapping images in [0, 1] to (penultimate features, class probabilities)."""
    return keras.Model(classifier.inputs, [classifier.get_layer(FEATURES).output, classifier.output])


def embed(features: keras.Model, images: np.ndarray, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(features, probabilities) of ``images`` (in [0, 1]) as float64 arrays."""
    feats, probs = features.predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(feats, np.float64), np.asarray(probs, np.float64)
