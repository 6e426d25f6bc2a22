"""Process set-up: denormal floats are flushed on every thread that runs TensorFlow kernels."""

import platform
import subprocess
import sys

import pytest

# A tf.function runs small kernels inline on the calling thread; before runtime.setup flushed
# denormals there, this printed 1e-39 for the function and 0.0 for the eager op (TensorFlow's
# own threads and eager ops flush), so a result depended on which thread a kernel ran on.
PROBE = """
from ganflow import runtime
runtime.setup(0)
import numpy as np, tensorflow as tf
x = tf.constant(np.float32(1e-39))
print(float(tf.function(lambda v: v * 1.0 + 0.0)(x)), float(x * 1.0 + 0.0),
      float(next(iter(tf.data.Dataset.from_tensors(x).map(lambda v: v * 1.0)))))
"""


@pytest.mark.skipif(platform.machine() != "x86_64" or not sys.platform.startswith("linux"),
                    reason="flush_denormals sets MXCSR through glibc on x86-64 Linux only")
def test_denormals_are_flushed_alike_inline_eager_and_in_tf_data():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0.0", "0.0", "0.0"]


def test_a_stage_process_runs_one_op_at_a_time_when_deterministic():
    # runtime.setup's one inter-op thread is what made cifar_ship's fresh-process trainings
    # bitwise identical (README "Reproducibility"); it must hold in a new process.
    import subprocess
    import sys

    code = ("from ganflow import runtime; runtime.setup(0, True, 1); import tensorflow as tf; "
            "t = tf.config.threading; print(t.get_inter_op_parallelism_threads(), t.get_intra_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", "1"]
    code = code.replace("runtime.setup(0, True, 1)", "runtime.setup(0, False)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "0"]


def test_native_bf16_reads_the_cpu_flags(tmp_path, monkeypatch):
    from ganflow.runtime import native_bf16

    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    zen3 = tmp_path / "zen3"
    zen3.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    zen4 = tmp_path / "zen4"
    zen4.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    spr = tmp_path / "spr"
    spr.write_text("flags\t\t: avx2 amx_bf16 amx_tile\n")
    assert not native_bf16(str(zen3)) and native_bf16(str(zen4)) and native_bf16(str(spr))
    assert not native_bf16(str(tmp_path / "missing"))
    # oneDNN capped below bf16 (as when emulating a Zen 3's kernels) emulates it: not native
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert not native_bf16(str(zen4)) and not native_bf16(str(spr))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx512_core_bf16")
    assert native_bf16(str(zen4)) and not native_bf16(str(zen3))
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE")
    assert not native_bf16(str(zen4))


# Three large tensors summed: ~290 MB live, above the ~200 MB at which Grappler's memory optimizer
# rewrites the AddN into a temporary variable added to in arrival order (so the order of the
# additions, and the sum's last bits, followed TensorFlow's scheduling: cifar_ship's trainings
# diverged where it changed). TensorFlow's single-threaded executor refuses the rewritten graph
# (a reference-typed edge), which shows whether the rewrite happened.
SUM_PROBE = """
import sys
from ganflow import runtime
runtime.setup(0, sys.argv[1] == "1")
import tensorflow as tf
x = tf.zeros([24_000_000])
f = tf.function(lambda x: tf.add_n([tf.sin(x), tf.cos(x), tf.exp(x)]))
try:
    with tf.experimental.function_executor_type("SINGLE_THREADED_EXECUTOR"):
        print("summed", float(f(x)[0]), runtime.sums_in_order())
except tf.errors.UnimplementedError as error:
    print("rewritten" if "reference-typed" in str(error) else error, runtime.sums_in_order())
"""


def test_a_deterministic_process_keeps_large_sums_in_a_fixed_order():
    def run(deterministic: bool) -> list[str]:
        return subprocess.run([sys.executable, "-c", SUM_PROBE, "1" if deterministic else "0"],
                              capture_output=True, text=True, check=True).stdout.split()

    assert run(True) == ["summed", "2.0", "True"]
    assert run(False) == ["rewritten", "False"]  # TensorFlow's default: the order-dependent sum
