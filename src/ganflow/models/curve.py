"""`curve`: 2-D GAN on points (x, f(x)), f(x) = x²·sin(3x)/(x²+2), x ~ U[-1, 1].

D: Dense(100, relu, he_uniform) → Dense(1, sigmoid)
G: latent 5 → Dense(50, relu, he_uniform) → Dense(2, linear)
"""

import keras
from keras import layers

from ganflow.heads import Head
from ganflow.models.spec import GanSpec, scaled

LATENT_DIM = 5


def build_generator(width: float = 1.0) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            layers.Dense(scaled(50, width), activation="relu", kernel_initializer="he_uniform"),
            layers.Dense(2, activation="linear"),
        ],
        name="curve_generator",
    )


def build_discriminator(width: float = 1.0) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((2,)),
            layers.Dense(scaled(100, width), activation="relu", kernel_initializer="he_uniform"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="curve_discriminator",
    )


SPEC = GanSpec(
    name="curve",
    kind="points",
    latent_dim=LATENT_DIM,
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    head=Head(1),
    data_range=(-1.0, 1.0),
    optimizer="adam",
    quality="curve",
    # each quality target (README "Recipes") counts 1 at its bound: |y - f(x)| 0.005, x W1 0.01
    selection=(("abs_err_mean", 0.0, 0.005), ("x_w1", 0.0, 0.01)),
)
