"""Number and shape formatting shared by the renderers."""

from __future__ import annotations

from typing import Any



def human(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def figure_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {figure_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(figure_text(v) for v in value) or "none"
    return str(value)


def pair_text(value: Any) -> str:
    """A kernel, stride or padding as the spec wrote it: `11`, `3x5` (height x width), `same`; empty when absent."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return str(value[0]) if len(set(value)) == 1 else "x".join(str(v) for v in value)
    return str(value)
