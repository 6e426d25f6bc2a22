"""The five GANs' architectures, one module each, and the registry that names them.

Each module defines ``SPEC``, a :class:`GanSpec` holding everything about one GAN that is
fixed by its tutorial: latent size, the two model builders, the discriminator's output kind,
the data range the generator produces, and the optimizer family. Training recipes that users
may tune (learning rates, batch sizes, steps) are params, not code.
"""

from __future__ import annotations

import importlib

from ganflow import GAN_NAMES
from ganflow.models.spec import GanSpec


def get_spec(name: str) -> GanSpec:
    """The spec of GAN ``name``; raises ``UserError`` for an unknown name."""
    if name not in GAN_NAMES:
        from ganflow.errors import UserError

        raise UserError(f"unknown GAN '{name}' (expected one of: {', '.join(GAN_NAMES)})")
    return importlib.import_module(f"ganflow.models.{name}").SPEC


__all__ = ["GanSpec", "get_spec"]
