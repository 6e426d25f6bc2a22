"""``ganflow repro``: ``dvc repro`` with each stage's wall time recorded.

    ganflow repro                        # = dvc repro, plus reports/run.json
    ganflow repro evaluate@mnist_mlp     # any dvc repro arguments
    ganflow repro --record docs/reference-run.json    # the committed reference run's record

DVC's output passes through unchanged. A stage's time runs from DVC's "Running stage" line to
its "Updating lock file" line (so DVC's own hashing of the outputs is included); a stage whose
outputs come out exactly as dvc.lock has them (a fresh machine reproducing the committed run)
gets no such line, and ends where DVC goes on to the next stage, or at the end of a run that
succeeded. The record merges across runs: each stage keeps its latest time, with the CPU it ran
on, so a run spread over sessions still has one time per stage. A stage killed and resumed keeps
only its resumed part's time (a killed stage gets none); the whole is entered by hand with a
"note" saying how, which `ganflow results` shows beside it. Times live outside the pipeline's
outputs, which stay bitwise reproducible.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from ganflow.errors import UserError
from ganflow.machine import cpu_label

RECORD = Path("reports/run.json")
RUNNING = re.compile(r"^Running stage '([^']+)'")
LOCKED = re.compile(r"^Updating lock file")
NEXT = re.compile(r"^Stage '[^']+' (is cached|didn't change)")  # DVC moved on to another stage
FAILED = re.compile(r"^ERROR")


def load_record(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not a run record ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("stages", {}), dict):
        raise UserError(f"{path}: not a run record (no 'stages' table)")
    return record


def stage_times(lines, clock=time.monotonic, echo=None, succeeded=lambda: True):
    """(stage, seconds) for each stage DVC ran, read from its output ``lines`` as they come.

    ``succeeded`` is asked at the end of the output whether the run ended well, for a last stage
    that left dvc.lock as it was (and so printed nothing after its own output)."""
    current, start = None, 0.0
    for line in lines:
        if echo:
            echo(line)
        now = clock()
        if FAILED.match(line):
            current = None  # a failed stage has no time
        elif current is not None and (LOCKED.match(line) or RUNNING.match(line) or NEXT.match(line)):
            yield current, now - start
            current = None
        if (m := RUNNING.match(line)) is not None:
            current, start = m.group(1), now
    if current is not None and succeeded():
        yield current, clock() - start


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    # what the run itself rewrites (dvc.lock, the metrics, this record) does not count
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!dvc.lock",
                            ":!reports", ":!docs/*.json"], capture_output=True, text=True)
    sha = proc.stdout.strip() if proc.returncode == 0 else "unknown"
    return sha + ("-dirty" if dirty.stdout.strip() else "")


def save(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    path = RECORD
    if "--record" in argv:
        i = argv.index("--record")
        if i + 1 >= len(argv):
            raise UserError("--record: needs a path")
        path = Path(argv[i + 1])
        del argv[i:i + 2]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"{path}: not writable")
    record = load_record(path)
    cpu, commit = cpu_label(), _commit()  # the code that runs: as it is when the run starts
    # unbuffered: DVC's lines must arrive as it prints them, not in blocks at the end
    proc = subprocess.Popen([sys.executable, "-m", "dvc", "repro", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for stage, seconds in stage_times(proc.stdout, echo=lambda line: print(line, end="", flush=True),
                                      succeeded=lambda: proc.wait() == 0):
        record.setdefault("stages", {})[stage] = {
            "wall_s": round(seconds, 1), "cpu": cpu, "commit": commit,
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        record.update(commit=commit, finished=record["stages"][stage]["finished"])
        save(path, record)  # after each stage: a killed run keeps what it measured
    if proc.wait():
        raise SystemExit(proc.returncode)
