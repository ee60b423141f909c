"""Every argument of a call an importer reads, as data: carried, harmless, or refused.

Each importer has one table of `Signature`s (torch_args.py, keras_args.py, tf1_args.py). `bind`
matches a call's positional and keyword arguments to its signature and refuses, with the call,
the argument and its value, whatever the spec cannot hold: an argument the table does not know,
or a refused one whose value changes the network. A carried argument is then the reader's to
write into the spec; a harmless one (`inplace`) leaves the network as it is, for the reason the
table states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import AuditError
from .consts import Opaque

Treat = Literal["carry", "harmless", "refuse"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # an argument without a default


@dataclass(frozen=True)
class Param:
    name: str
    treat: Treat
    default: Any = REQUIRED
    why: str = ""  # harmless: why the network is unchanged; otherwise what a spec cannot hold
    ok: tuple[Any, ...] | None = None  # the values (or types) the spec holds; absent: any (carry), the default (refuse)
    keyword_only: bool = False
    aliases: tuple[str, ...] = ()  # other keywords for it (TF1's `filter` and TF2's `filters`)

    def accepts(self, value: Any) -> bool:
        accepted = self.ok if self.ok is not None else (self.default,)
        return any(_same(value, a) for a in accepted)


@dataclass(frozen=True)
class Signature:
    call: str  # as messages name it: "nn.Conv2d", "F.max_pool2d", "Conv2D"
    kind: str | None  # the spec kind it becomes (None: no layer, as nn.Identity)
    params: tuple[Param, ...]  # positional ones in order, then keyword-only ones
    rest: str = ""  # why any further argument is harmless (nn.Identity ignores all of them); "" refuses them

    def param(self, key: str) -> Param | None:
        return next((p for p in self.params if key == p.name or key in p.aliases), None)


def carry(name: str, default: Any = REQUIRED, *, aliases: tuple[str, ...] = (), keyword_only: bool = False) -> Param:
    """A table's row for an argument the reader writes into the spec."""
    return Param(name, "carry", default, aliases=aliases, keyword_only=keyword_only)


def harmless(name: str, default: Any, why: str, *, keyword_only: bool = False) -> Param:
    """A table's row for an argument that leaves the network as it is, for the reason `why`."""
    return Param(name, "harmless", default, why=why, keyword_only=keyword_only)


def refuse(name: str, default: Any, why: str, ok: tuple[Any, ...] | None = None, *, keyword_only: bool = False) -> Param:
    """A table's row for an argument whose values other than `ok` (the default) the spec cannot hold, for `why`."""
    return Param(name, "refuse", default, why=why, ok=ok, keyword_only=keyword_only)


def bind(sig: Signature, args: Sequence[Any], kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Each parameter's value (its default where the call leaves it out), or AuditError naming
    `where` (the line and the call as written), the argument and its value."""
    positional = [p for p in sig.params if not p.keyword_only]
    given: dict[str, Any] = {}
    if len(args) > len(positional) and not sig.rest:
        raise AuditError(f"{where}: {sig.call} takes at most {len(positional)} positional arguments here, not {len(args)} "
                         f"(argument {len(positional) + 1} is {shown(args[len(positional)])}: refused rather than left out)")
    given.update((p.name, v) for p, v in zip(positional, args))
    for key, value in kwargs.items():
        p = sig.param(key)
        if p is None:
            if sig.rest:
                continue
            raise AuditError(f"{where}: {key}={shown(value)} is not an argument of {sig.call} this importer reads "
                             "(refused rather than left out)")
        if p.name in given:
            raise AuditError(f"{where}: {sig.call} is given {p.name} twice")
        given[p.name] = value
    for p in sig.params:
        if p.name not in given and p.default is REQUIRED:
            raise AuditError(f"{where}: {sig.call} needs {p.name}, which the call does not give")
        if (p.treat == "refuse" or p.ok is not None) and p.name in given and not p.accepts(given[p.name]):
            raise AuditError(f"{where}: {sig.call} {p.name}={shown(given[p.name])} is refused: {p.why}")
    return {p.name: given.get(p.name, p.default) for p in sig.params}


def refused(where: str, name: str, value: Any, why: str) -> AuditError:
    """A carried argument whose value the spec cannot hold, said as `bind` says a refused one."""
    return AuditError(f"{where}: {name}={shown(value)} is refused: {why}")


def shown(value: Any) -> str:
    """A value as the message names it: an unknown one by the expression it stands for."""
    if isinstance(value, Opaque):
        return f"{value.name} (not known statically)"
    return repr(value)


def _same(value: Any, accepted: Any) -> bool:
    """Equal, or a pair of equal sides given for one number (`(1, 1)` for 1)."""
    if isinstance(accepted, type):
        return isinstance(value, accepted) and not isinstance(value, bool)
    if isinstance(value, Opaque) or isinstance(value, bool) != isinstance(accepted, bool):
        return False
    if isinstance(value, (tuple, list)) and not isinstance(accepted, (tuple, list)):
        return len(value) > 0 and all(_same(v, accepted) for v in value)
    if isinstance(value, (tuple, list)) and isinstance(accepted, (tuple, list)):
        return len(value) == len(accepted) and all(_same(v, a) for v, a in zip(value, accepted))
    return bool(value == accepted)
