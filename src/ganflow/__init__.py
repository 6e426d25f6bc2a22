"""ganflow: a reproducible DVC + Keras pipeline for five classic GANs."""

GAN_NAMES = ("sine", "curve", "mnist_dcgan", "mnist_mlp", "cifar_ship")
