"""FusedAdam: Keras's Adam computed by TensorFlow's fused kernel."""

import keras
import numpy as np
import tensorflow as tf

from ganflow.models import get_spec
from ganflow.training.optimizers import FusedAdam, make_optimizer


def run(optimizer, steps=20):
    rng = np.random.default_rng(0)
    var = keras.Variable(rng.standard_normal((64, 32)).astype(np.float32))
    optimizer.build([var])
    grads = [tf.constant(rng.standard_normal((64, 32)).astype(np.float32)) for _ in range(steps)]

    @tf.function
    def update(grad):
        optimizer.apply_gradients([(grad, var)])

    for grad in grads:
        update(grad)
    return var.numpy(), update.get_concrete_function(grads[0]).graph


def op_types(graph) -> set[str]:
    """Op types in a traced graph and in every function it calls."""
    graph_def = graph.as_graph_def()
    return {n.op for n in graph_def.node} | {n.op for f in graph_def.library.function for n in f.node_def}


def test_fused_adam_matches_keras_adam_and_uses_the_fused_kernel():
    fused, graph = run(FusedAdam(learning_rate=1e-2, beta_1=0.5))
    plain, plain_graph = run(keras.optimizers.Adam(learning_rate=1e-2, beta_1=0.5))
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)

    assert "ResourceApplyAdam" in op_types(graph)
    assert "ResourceApplyAdam" not in op_types(plain_graph)


def test_the_tutorials_optimizer_families():
    assert isinstance(make_optimizer(get_spec("mnist_mlp"), 2e-4), FusedAdam)
    assert type(make_optimizer(get_spec("mnist_mlp"), 2e-4, fused=False)) is keras.optimizers.Adam
    rms = make_optimizer(get_spec("cifar_ship"), 2e-4)
    assert isinstance(rms, keras.optimizers.RMSprop) and rms.clipvalue == 1.0
