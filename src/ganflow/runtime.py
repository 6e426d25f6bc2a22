"""Process set-up shared by the stages that run TensorFlow: quiet logs, seeds, device report,
the distribution strategy and the dtype policy.

Import this module before TensorFlow. ``setup(seed)`` seeds Python, numpy and Keras (which seeds
the layers' initializers and dropout generators), enables TensorFlow op determinism and runs
one op at a time, so a CPU run at a fixed thread count is bitwise reproducible.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def flush_denormals() -> bool:
    """Set flush-to-zero and denormals-are-zero (MXCSR bits 15 and 6) on the calling thread, as
    TensorFlow sets them on its own pool threads; return whether they are set (x86-64 Linux only;
    elsewhere nothing changes).

    Why: a ``tf.function`` runs some kernels inline on the thread that called it, which (unlike
    TensorFlow's threads, and unlike eager ops) keeps denormal floats. Which kernels run there
    depends on scheduling, so a value below 1.2e-38 was kept in one run and flushed to 0 in
    another: ``cifar_ship``'s training differed between identical runs on one machine
    (``benchmarks/determinism.py``; README "Reproducibility"). With the flags set here every
    thread flushes alike. The two other sources found since are fixed elsewhere: D's Dropout seed
    (``models.layers.dropout_seed``) and concurrent ops (one inter-op thread, :func:`setup`)."""
    import ctypes
    import ctypes.util
    import platform
    import sys

    if platform.machine() != "x86_64" or not sys.platform.startswith("linux"):
        return False
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    except OSError:
        return False
    env = (ctypes.c_uint32 * 8)()  # glibc's x86-64 fenv_t: the x87 environment, then MXCSR
    if libm.fegetenv(env) != 0:
        return False
    env[7] |= 0x8040
    return libm.fesetenv(env) == 0


def keep_sums_in_order() -> None:
    """Turn off Grappler's memory optimizer for every ``tf.function`` this process calls.

    Why: where a sum of tensors (``AddN``, e.g. a gradient with several contributions) holds more
    than ~200 MB live, that optimizer rewrites it into a temporary variable that each input is
    added to as it arrives, so the order of the additions follows the order in which TensorFlow
    ran the inputs' producers. That order changes during a run: the executor times every op and,
    after ~90 runs of a cheap one, starts running it inline instead of queueing it. Only
    ``cifar_ship``'s step is large enough; there, trainings of the same code diverged in the last
    bit at the step where that switch happened (steps 93-97 at params.yaml's scale), also at one
    step per call and alone on the CPU, and a run resumed from a checkpoint left an
    uninterrupted one (README "Reproducibility"). ``enable_op_determinism`` does not cover it.

    TensorFlow has no public switch for this optimizer, so this sets it in the eager context's
    base config (``tf.config.optimizer.set_experimental_options`` keeps it) and drops the calling
    thread's cached function-call options; :func:`sums_in_order` reads back what calls use."""
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    ctx = context.context()
    ctx._initialize_physical_devices()  # imports a construction-time config first, once  # noqa: SLF001
    config = config_pb2.ConfigProto()
    if ctx._config is not None:  # noqa: SLF001
        config.CopyFrom(ctx._config)  # noqa: SLF001
    config.graph_options.rewrite_options.memory_optimization = rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
    ctx._config = config  # noqa: SLF001
    ctx._thread_local_data.function_call_options = None  # recomputed from the config  # noqa: SLF001


def sums_in_order() -> bool:
    """Whether a ``tf.function`` called from this thread now runs with Grappler's memory
    optimizer off (:func:`keep_sums_in_order`)."""
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    config = config_pb2.ConfigProto()
    config.ParseFromString(context.context().function_call_options.config_proto_serialized)
    return config.graph_options.rewrite_options.memory_optimization == rewriter_config_pb2.RewriterConfig.NO_MEM_OPT


def set_threads(intra_op: int, inter_op: int = 0) -> None:
    """TensorFlow's intra-op and inter-op thread counts (0 = its default, one per core); call
    before any TensorFlow work in the process. Once TensorFlow has started, a count can no
    longer change: a differing request then leaves it as it is, with a warning (a stage calls
    this first; a test process calls it many times)."""
    import warnings

    import tensorflow as tf

    threading = tf.config.threading
    for kind, n, get, put in (
        ("intra-op", intra_op, threading.get_intra_op_parallelism_threads, threading.set_intra_op_parallelism_threads),
        ("inter-op", inter_op, threading.get_inter_op_parallelism_threads, threading.set_inter_op_parallelism_threads),
    ):
        if n and get() != n:
            try:
                put(n)
            except RuntimeError:
                warnings.warn(f"TensorFlow already started: {kind} threads stay at {get() or 'its default'}, not {n}")


def setup(seed: int, deterministic: bool = True, intra_op_threads: int = 0) -> str:
    """Seed everything from ``seed``; set the intra-op thread count (0 = TensorFlow's default);
    return a one-line description of the device in use.

    ``deterministic`` (the default) enables op determinism, keeps gradient sums in a fixed order
    (:func:`keep_sums_in_order`) and runs one op at a time (one inter-op thread; each op still
    uses every intra-op thread). Why one: with TensorFlow's
    default of one inter-op thread per core, concurrently run ops made identical ``cifar_ship``
    trainings end with weights ~1e-8 apart (last-bit differences in nearly every kernel: 12
    CI-scale runs on an Intel Xeon, 3 at a time on 2 cores, gave 3 different models), and with
    1 inter-op thread 12 of 12 were identical (``benchmarks/determinism.py``; README "Reproducibility")."""
    import keras
    import tensorflow as tf

    set_threads(intra_op_threads, 1 if deterministic else 0)
    flush_denormals()

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        keep_sums_in_order()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
        return f"GPU: {', '.join(g.name for g in gpus)}"
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    return f"CPU ({threads} threads; no GPU visible to TensorFlow)"


def distribution_strategy(name: str):
    """The ``tf.distribute`` strategy called ``name`` (``train.strategy``).

    ``mirrored`` mirrors over every local GPU, or, with none, over the logical CPU devices
    (one unless the process split its CPU, as the tests do). ``multi_worker`` reads the cluster
    from ``TF_CONFIG``; create it before any other TensorFlow work in the process.
    """
    import tensorflow as tf

    from ganflow.errors import UserError

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise UserError("train.strategy: multi_worker needs TF_CONFIG (the cluster and this "
                            "worker's task); see README, Scaling out")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"train.strategy: unknown strategy {name!r}")


def is_chief(strategy) -> bool:
    """Whether this process writes the outputs: always, except on a multi-worker cluster's
    non-chief workers."""
    return bool(getattr(strategy.extended, "should_checkpoint", True))


# oneDNN's ISA caps (ONEDNN_MAX_CPU_ISA, or DNNL_MAX_CPU_ISA) at which it still runs bf16 natively
BF16_ISAS = {"AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
             "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "ALL"}


def native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether oneDNN computes bfloat16 natively here: Linux lists ``avx512_bf16`` or ``amx_bf16``
    among the CPU's flags (Intel Cooper Lake / Sapphire Rapids on, AMD Zen 4 on) and no
    ``ONEDNN_MAX_CPU_ISA`` caps oneDNN below them. Otherwise (e.g. Zen 3: AVX2 only) oneDNN
    emulates bf16 in float32, slower than float32 itself."""
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL").upper()
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return bool({"avx512_bf16", "amx_bf16"} & set(flags)) and cap in BF16_ISAS


def set_precision(model, name: str) -> None:
    """Set ``model`` and each of its layers to Keras's dtype policy ``name`` (``float32``,
    ``mixed_bfloat16``, ``mixed_float16``): 16-bit compute, variables stay float32, so the same
    variables train in one policy and save in another."""
    for layer in (model, *model.layers):
        layer.dtype_policy = name
