"""`mnist_mlp`: fully connected GAN on MNIST digits, images in [-1, 1].

G: latent 100 → Dense 256 / 512 / 1024, each LeakyReLU(0.2) + BN(momentum 0.8)
   → Dense(784, tanh) → Reshape(28, 28, 1)
D: Flatten → Dense(512) + LeakyReLU(0.2) → Dense(256) + LeakyReLU(0.2) → Dense(1, sigmoid)
                                                                          533,505 params
"""

import keras
from keras import layers

from ganflow.heads import Head
from ganflow.models.spec import GanSpec, scaled

LATENT_DIM = 100


def build_generator(width: float = 1.0) -> keras.Model:
    hidden = []
    for units in (256, 512, 1024):
        hidden += [
            layers.Dense(scaled(units, width)),
            layers.LeakyReLU(negative_slope=0.2),
            layers.BatchNormalization(momentum=0.8),
        ]
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            *hidden,
            layers.Dense(28 * 28, activation="tanh"),
            layers.Reshape((28, 28, 1)),
        ],
        name="mnist_mlp_generator",
    )


def build_discriminator(width: float = 1.0) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Flatten(),
            layers.Dense(scaled(512, width)),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(scaled(256, width)),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="mnist_mlp_discriminator",
    )


SPEC = GanSpec(
    name="mnist_mlp",
    kind="image",
    latent_dim=LATENT_DIM,
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    head=Head(1),
    data_range=(-1.0, 1.0),
    optimizer="adam",
    adam_beta_1=0.5,
    digit_labels=True,
)
