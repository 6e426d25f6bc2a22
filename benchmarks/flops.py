"""Analytic FLOP counts of the GANs' train steps, and the machine's measured peak.

Conventions
-----------
* Only the multiply-accumulate layers count: ``Dense``, ``Conv1D``/``Conv2D`` and
  ``Conv2DTranspose``, at 2 FLOPs per multiply-accumulate (MAC). Biases, activations,
  batch normalization, dropout, reshapes, up-sampling and the optimizers are left out (they
  are a few percent of the total at most and mostly memory-bound).
* MACs per sample, from the layer shapes:

  - ``Dense``: in_features × units for every position of the leading (non-batch) axes;
  - convolution: output positions × kernel positions × in_channels / groups × out_channels;
  - transposed convolution: *input* positions × kernel positions × in_channels × out_channels
    (each input position scatters one kernel-sized patch into the output).

* A backward pass costs about twice its forward pass (gradients of inputs and of weights),
  so forward + backward = 3 × forward.
* One step of either loop (the pipeline's fused step, or the tutorials' three calls) is, for
  batch B, with G and D the per-sample forward FLOPs::

      fakes for D        G forward on B                        1·G·B
      D update           D forward + backward on 2B (real+fake) 3·D·2B
      G update           G and D forward + backward on B        3·(G+D)·B
      total                                                     (4·G + 9·D)·B
"""

from __future__ import annotations

import math
import time

import numpy as np

# Multipliers of (G, D) per-sample forward FLOPs in one step: see the module docstring.
G_PASSES = 1 + 3
D_PASSES = 3 * 2 + 3


def _shape(tensor) -> tuple[int, ...]:
    """A symbolic tensor's shape without the batch axis."""
    return tuple(int(d) for d in tensor.shape[1:])


def layer_macs(layer) -> int:
    """Multiply-accumulates per sample of one (non-nested) layer; 0 for layers without any."""
    from keras import layers

    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        cin, cout = int(layer.kernel.shape[-1]), int(layer.kernel.shape[-2])
        return math.prod(_shape(layer.input)[:-1]) * math.prod(layer.kernel_size) * cin * cout
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        k_positions = math.prod(layer.kernel_size)
        cin_per_group, cout = int(layer.kernel.shape[-2]), int(layer.kernel.shape[-1])
        return math.prod(_shape(layer.output)[:-1]) * k_positions * cin_per_group * cout
    if isinstance(layer, layers.Dense):
        din, units = (int(d) for d in layer.kernel.shape)
        return math.prod(_shape(layer.input)[:-1]) * din * units
    return 0


def _leaf_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            yield from _leaf_layers(layer)
        else:
            yield layer


def forward_flops(model) -> int:
    """Forward FLOPs per sample of a built Keras model (2 FLOPs per MAC)."""
    return 2 * sum(layer_macs(layer) for layer in _leaf_layers(model))


def step_flops(g_flops: int, d_flops: int, batch: int) -> int:
    """FLOPs of one adversarial step at ``batch``, from per-sample forward FLOPs of G and D."""
    return (G_PASSES * g_flops + D_PASSES * d_flops) * batch


# --- the machine's peak ----------------------------------------------------------------------


def _best_rate(fn, flops: float, repeats: int, inner: int) -> dict:
    """Run ``fn`` once to warm up, then ``repeats`` timings of ``inner`` calls each; GFLOP/s."""
    fn()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        rates.append(flops * inner / (time.perf_counter() - t0) / 1e9)
    return {"gflops_best": max(rates), "gflops_median": float(np.median(rates)), "timings": repeats,
            "calls_per_timing": inner, "gflop_per_call": flops / 1e9}


def matmul_peak(n: int = 2048, repeats: int = 5, inner: int = 3) -> dict:
    """float32 ``n × n`` by ``n × n`` matmul (2·n³ FLOPs), as TensorFlow runs it by default."""
    import tensorflow as tf

    a = tf.random.normal([n, n]) / math.sqrt(n)
    b = tf.random.normal([n, n]) / math.sqrt(n)
    op = tf.function(lambda: tf.reduce_sum(tf.linalg.matmul(a, b)))
    result = _best_rate(lambda: op().numpy(), 2.0 * n**3, repeats, inner)
    return {"op": f"matmul float32 {n}x{n} @ {n}x{n}", **result}


def conv_peak(batch: int = 32, size: int = 32, channels: int = 256, kernel: int = 3,
              repeats: int = 5, inner: int = 3) -> dict:
    """float32 ``conv2d`` (NHWC, stride 1, same padding), ``channels`` → ``channels``."""
    import tensorflow as tf

    x = tf.random.normal([batch, size, size, channels])
    w = tf.random.normal([kernel, kernel, channels, channels]) / math.sqrt(kernel * kernel * channels)
    op = tf.function(lambda: tf.reduce_sum(tf.nn.conv2d(x, w, strides=1, padding="SAME")))
    flops = 2.0 * batch * size * size * kernel * kernel * channels * channels
    result = _best_rate(lambda: op().numpy(), flops, repeats, inner)
    return {"op": f"conv2d float32 {batch}x{size}x{size}x{channels} -> {channels}, {kernel}x{kernel}, "
                  "same", **result}
