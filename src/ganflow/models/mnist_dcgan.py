"""`mnist_dcgan`: deep convolutional GAN on MNIST digits, images in [0, 1].

D: Conv2D 64/128/256 (5×5, stride 2, same) and 512 (5×5, stride 1, same), each
   LeakyReLU(0.2) + Dropout(0.2) → Flatten → Dense(1) → sigmoid          4,311,553 params
G: latent 100 → Dense(7·7·256) + BN(0.9) + ReLU → Reshape(7, 7, 256) → UpSampling2D
   → Conv2DTranspose(128, 5) + BN + ReLU → UpSampling2D → Conv2DTranspose(64, 5) + BN + ReLU
   → Conv2DTranspose(32, 5) + BN + ReLU → Conv2DTranspose(1, 5, sigmoid)  2,394,241 params
"""

import keras
from keras import layers

from ganflow.models.layers import Dropout
from ganflow.heads import Head
from ganflow.models.spec import GanSpec, scaled

LATENT_DIM = 100


def build_generator(width: float = 1.0) -> keras.Model:
    def up_block(filters: int) -> list:
        return [
            layers.Conv2DTranspose(scaled(filters, width), 5, padding="same"),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            layers.Dense(7 * 7 * scaled(256, width)),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.Reshape((7, 7, scaled(256, width))),
            layers.UpSampling2D(),
            *up_block(128),
            layers.UpSampling2D(),
            *up_block(64),
            *up_block(32),
            layers.Conv2DTranspose(1, 5, padding="same", activation="sigmoid"),
        ],
        name="mnist_dcgan_generator",
    )


def build_discriminator(width: float = 1.0) -> keras.Model:
    blocks = []
    for filters, strides in ((64, 2), (128, 2), (256, 2), (512, 1)):
        blocks += [
            layers.Conv2D(scaled(filters, width), 5, strides=strides, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            Dropout(0.2),
        ]
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *blocks,
            layers.Flatten(),
            layers.Dense(1),
            layers.Activation("sigmoid"),
        ],
        name="mnist_dcgan_discriminator",
    )


SPEC = GanSpec(
    name="mnist_dcgan",
    kind="image",
    latent_dim=LATENT_DIM,
    build_generator=build_generator,
    build_discriminator=build_discriminator,
    head=Head(1),
    data_range=(0.0, 1.0),
    optimizer="adam",
    adam_beta_1=0.5,
    digit_labels=True,
)
