"""`cifar_ship`: convolutional GAN on CIFAR-10 class 8 ("ship"), images in [-1, 1].

G: latent 128 → Dense(128·16·16) + LeakyReLU → Reshape(16, 16, 128)
   → Conv2D(256, 5, same) → Conv2DTranspose(256, 4, stride 2, same)
   → Conv2D(256, 5, same) → Conv2D(256, 5, same)   (each + LeakyReLU)
   → Conv2D(3, 7, same, tanh)                                            9,410,307 params
D: Conv2D(128, 3) → 3 × Conv2D(128, 4, stride 2), each LeakyReLU → Flatten
   → Dropout(0.4) → Dense(1, sigmoid)                                      790,913 params
"""

import keras
from keras import layers

from ganflow.models.layers import Dropout
from ganflow.heads import Head
from ganflow.models.spec import GanSpec, scaled

LATENT_DIM = 128


def _lrelu() -> layers.Layer:
    return layers.LeakyReLU(negative_slope=0.2)


def build_generator(width: float = 1.0) -> keras.Model:
    c128, c256 = scaled(128, width), scaled(256, width)
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            layers.Dense(c128 * 16 * 16),
            _lrelu(),
            layers.Reshape((16, 16, c128)),
            layers.Conv2D(c256, 5, padding="same"),
            _lrelu(),
            layers.Conv2DTranspose(c256, 4, strides=2, padding="same"),
            _lrelu(),
            layers.Conv2D(c256, 5, padding="same"),
            _lrelu(),
            layers.Conv2D(c256, 5, padding="same"),
            _lrelu(),
            layers.Conv2D(3, 7, padding="same", activation="tanh"),
        ],
        name="cifar_ship_generator",
    )


def build_discriminator(width: float = 1.0) -> keras.Model:
    c128 = scaled(128, width)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(c128, 3),
            _lrelu(),
            layers.Conv2D(c128, 4, strides=2),
            _lrelu(),
            layers.Conv2D(c128, 4, strides=2),
            _lrelu(),
            layers.Conv2D(c128, 4, strides=2),
            _lrelu(),
            layers.Flatten(),
            Dropout(0.4),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="cifar_ship_discriminator",
    )


SPEC = GanSpec(
    name="cifar_ship",
    kind="image",
    latent_dim=LATENT_DIM,
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    head=Head(1),
    data_range=(-1.0, 1.0),
    optimizer="rmsprop",
    clipvalue=1.0,
    target_class=("ship", 8),  # CIFAR-10's class 8
)
