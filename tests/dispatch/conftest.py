"""Fixtures for the dispatch solver tests: the shared Li & Lim benchmark files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.solver.lilim import PdptwInstance, read_lilim

LILIM_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "routing" / "lilim"
BUNDLED_DIR = Path(__file__).resolve().parent / "data"
"""lc101, lr101 and lrc101 ship with the tests; other instances come from the shared data."""


def lilim_path(name: str) -> Path:
    """Where an instance is: bundled with the tests, else in the shared data."""
    bundled = BUNDLED_DIR / f"{name}.txt"
    return bundled if bundled.exists() else LILIM_DIR / f"{name}.txt"


def load_lilim(name: str) -> PdptwInstance:
    """A Li & Lim instance by name; skips the test when neither copy is there."""
    path = lilim_path(name)
    if not path.exists():
        pytest.skip(f"shared benchmark file {path} is not available")
    return read_lilim(path)


@pytest.fixture(scope="session")
def lc101() -> PdptwInstance:
    return load_lilim("lc101")
