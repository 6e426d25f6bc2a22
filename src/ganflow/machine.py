"""The machine a figure was measured on: CPU model, cores and the ISA flags that decide
TensorFlow's CPU kernels (read from /proc/cpuinfo; no TensorFlow import)."""

from __future__ import annotations

import os
from pathlib import Path

ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16")


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The model name with its family and model numbers (a virtual machine's name can be as
    vague as "Intel(R) Xeon(R) Processor"; AMD Zen 3 is family 25, model 1 or 33)."""
    try:
        fields = dict(line.split(":", 1) for line in Path(cpuinfo).read_text().split("\n\n")[0].splitlines()
                      if ":" in line)
    except OSError:
        return "unknown CPU"
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    name = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> list[str]:
    """The vector-ISA flags of /proc/cpuinfo that decide TensorFlow's CPU kernels."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in ISA_FLAGS if f in have]
    except OSError:
        pass
    return []


def cpu_label() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu_model()}, {cores} cores ({' '.join(cpu_flags()) or 'no AVX2'})"
