"""Shared fixtures: spec paths, a small spec writer, and one audit of the shipped specs per session."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from alexnet_audit.audit import AuditRun, audit_paths

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.fixture(scope="session")
def shipped_run() -> AuditRun:
    return audit_paths(SPECS)


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
