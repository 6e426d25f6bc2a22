"""`sine`: 1-D GAN on sine curves sin(offset + x*mul)/2 + 0.5 sampled at x = 0, 0.1, ..., 4.9.

G: latent 10 → Dense(200, tanh) → Dense(50, tanh)                      12,250 params
D: Reshape(50, 1) → Conv1D(50, 5, relu) → Dropout(0.25) → Flatten
   → Dense(50) → Dense(2, sigmoid)                                      115,452 params

D's head is the tutorial's: two sigmoid units trained with binary cross-entropy on one-hot
[fake, real] labels, each unit its own term (see ``ganflow.training.losses``); D calls a sample real
when the "real" unit is above the "fake" one.
"""

import keras
from keras import layers

from ganflow.models.layers import Dropout
from ganflow.heads import Head
from ganflow.models.spec import GanSpec, scaled

LATENT_DIM = 10
SERIES_LEN = 50


def build_generator(width: float = 1.0) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            layers.Dense(scaled(200, width), activation="tanh"),
            layers.Dense(SERIES_LEN, activation="tanh"),
        ],
        name="sine_generator",
    )


def build_discriminator(width: float = 1.0) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((SERIES_LEN,)),
            layers.Reshape((SERIES_LEN, 1)),
            layers.Conv1D(scaled(50, width), 5, activation="relu"),
            Dropout(0.25),
            layers.Flatten(),
            layers.Dense(scaled(50, width)),
            layers.Dense(2, activation="sigmoid"),
        ],
        name="sine_discriminator",
    )


SPEC = GanSpec(
    name="sine",
    kind="series",
    latent_dim=LATENT_DIM,
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    head=Head(2),
    data_range=(-1.0, 1.0),
    optimizer="adam",
    quality="sine",
    # each quality target (README "Recipes") counts 1 at its bound: fit RMSE 0.05, mul W1 0.1, diversity 0.8
    selection=(("fit_rmse_mean", 0.0, 0.05), ("mul_w1", 0.0, 0.1), ("diversity", 1.0, 0.2)),
)
