"""requirements.lock (made by scripts/lock.sh) pins, with hashes, everything pyproject.toml asks for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def locked() -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) from the lock's ``name==version \\ --hash=sha256:...`` entries."""
    text = (REPO / "requirements.lock").read_text().replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)\s*(.*)$", line)
        if m:
            out[canonicalize_name(m[1])] = (m[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", m[3]))
    return out


def test_every_dependency_and_dev_tool_is_locked_within_its_range_with_hashes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    lock = locked()
    assert len(lock) > len(wanted)  # the transitive ones too
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is not in requirements.lock: run bash scripts/lock.sh"
        version, _ = lock[name]
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} outside {req.specifier}"
    assert all(hashes for _, hashes in lock.values()), "every pin carries its sha256 hashes"
