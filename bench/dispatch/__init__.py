"""Dispatch benchmarks that print figures: Li & Lim PDPTW instances and generated drop-and-hook days.

Run from the repository root::

    uv run python -m bench.dispatch.lilim --time-limit 30
    uv run python -m bench.dispatch.days --sizes 50x200,300x1000 --time-limit 60
"""

from __future__ import annotations

import resource

__all__ = ("cpu_seconds",)


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its children that have finished."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
