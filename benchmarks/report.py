"""The benchmark's results as a markdown table (for the README) and as console lines."""

from __future__ import annotations

COLUMNS = ("GAN", "batch", "A: tutorial loop ms/step", "of which G.predict", "B: fused step ms/step",
           "speedup A/B", "GFLOP/step", "B GFLOP/s", "B % of matmul peak", "B % of conv peak")


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.3g}"


def _pct(part: float, whole: float) -> str:
    pct = 100 * part / whole
    return "<1%" if pct < 1 else f"{pct:.0f}%"


def _row(r: dict, peak: dict) -> list[str]:
    gflops = r["b"]["gflops"]
    pct = {name: _pct(gflops, p["gflops_best"]) if p else "–" for name, p in peak.items()}
    predict = r["a"]["phase_s_per_step_mean"]["predict"]
    gan = f"`{r['gan']}`" + (f" ({r['intra_op_threads']} thread)" if r.get("intra_op_threads") else "")
    return [gan, f"{r['batch']:,}", _ms(r["a"]["s_per_step"]), _ms(predict),
            _ms(r["b"]["s_per_step"]), f"{r['speedup']:.1f}×", f"{r['flops_per_step'] / 1e9:.3g}", f"{gflops:.3g}",
            pct.get("matmul", "–"), pct.get("conv2d", "–")]


def _peak_line(peak: dict) -> str:
    parts = [f"{p['op']}: {p['gflops_best']:.0f} GFLOP/s" for p in peak.values() if p]
    return "Measured peak (best of the timings): " + "; ".join(parts) + "." if parts else ""


def markdown(result: dict) -> str:
    """The results table with the machine, the date and the conventions."""
    m, peak = result["machine"], result["peak"]
    threads = m["tf_threads"]
    lines = [
        "### Train-step benchmark",
        "",
        f"{m['date'][:10]}, {m['cpu_model']}, {m['cpu_count']} cores, TensorFlow {m['tensorflow']}, "
        f"Keras {m['keras']}; TensorFlow threads at their defaults (intra-op {threads['intra_op']}, "
        f"inter-op {threads['inter_op']}; 0 = one per core) except where a GAN's "
        f"`train.<gan>.intra_op_threads` sets them (each GAN in its own process). Median of {result['repeats']} "
        "timings each, A and B alternated after warm-up. `python -m benchmarks.train_step`.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(" --- " if i < 2 else " ---: " for i in range(len(COLUMNS))) + "|",
    ]
    lines += ["| " + " | ".join(_row(r, peak)) + " |" for r in result["results"]]
    lines += ["", _peak_line(peak), "",
              "A = `G.predict` + `D.train_on_batch` (real and fake concatenated) + "
              "`GAN.train_on_batch` on `Sequential([G, D])`, with `D.trainable` toggled before each "
              "call. B = the pipeline's fused `GAN.train_step`, compiled as the train stage compiles "
              "it. " + result["conventions"]["flops"]]
    dvc = result.get("dvc")
    if dvc:
        lines += ["", dvc_line(dvc)]
    return "\n".join(lines) + "\n"


def dvc_line(dvc: dict) -> str:
    if dvc.get("skipped"):
        return f"No-op `dvc repro`: not measured ({dvc.get('note', 'skipped')})."
    return (f"No-op `dvc repro` (nothing to run): {dvc['repro_s_median']:.1f} s wall "
            f"(median of {len(dvc['repro_s'])}); `dvc status`: {dvc['status_s']:.1f} s.")


def console_line(r: dict, peak: dict) -> str:
    b = r["b"]
    frac = ""
    if peak.get("matmul"):
        frac = f" = {_pct(b['gflops'], peak['matmul']['gflops_best'])} of matmul peak"
    predict = _ms(r["a"]["phase_s_per_step_mean"]["predict"])
    return (f"{r['gan']:>12} batch {r['batch']:>6}: A {_ms(r['a']['s_per_step']):>7} ms/step "
            f"({predict} in G.predict), "
            f"B {_ms(b['s_per_step']):>7} ms/step, speedup {r['speedup']:5.1f}x, "
            f"B {b['gflops']:7.3g} GFLOP/s{frac}")
