"""A content-keyed store of analyses, so that a run where most specs are unchanged skips measuring
them, and a run where all are unchanged never imports torch or fvcore.

One file per key in a directory the user names (`--cache-dir`; by default under
`$XDG_CACHE_HOME`). The key is a SHA-256 over what the measurement depends on: the parts of the
spec that `plan`, `build_meta` and `analyse` read (an `--input` override among them: with_input
writes it into the spec's input), a digest of this package's own files (editing a formula
invalidates every entry, version number or not), the installed torch and fvcore versions, and
the entry format. An entry is a header line (format,
key, the SHA-256 of the rest) and the `Analysis` as JSON, without its `Spec`: that is
re-attached from the current load. Two specs that differ only in what the measurement does not
read (two posts' prose describing one network) share an entry.

An entry is data from outside: read with a size bound, checked against its digest and its key,
parsed strictly; anything wrong with it, or with the directory, means measuring afresh, and
returns a one-line note where the user should know. A read that gives the analysis back marks
the entry used; cache_prune.py bounds the directory by that after a run that wrote entries.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterator, Mapping

import pydantic_core
from pydantic import BaseModel, ConfigDict, ValidationError

from .atomic import write_atomic
from .bounded_read import read_bounded
from .errors import AuditError
from .init import FRAMEWORK_DEFAULTS
from .results import Analysis, LayerResult, ModuleInfo, StageResult, Totals
from .spec import Spec
from .strict import MAX_INT

FORMAT = 1
# After a run that wrote entries, the cache keeps this many, the most recently used, and none that
# no run has used for this many days (cache_prune.py): about 4 MB of the shipped specs' entries.
MAX_ENTRIES = 200
MAX_AGE_DAYS = 30.0
# The largest shipped entry (a ResNet) is about 0.2 MB; a spec may hold 512 items in all.
MAX_ENTRY_BYTES = 16 << 20
PACKAGE = Path(__file__).resolve().parent
_SKIPPED_DIRS = frozenset({"__pycache__"})


def default_dir(environ: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/alexnet-audit`, or `~/.cache/alexnet-audit` (the XDG spec ignores a relative value)."""
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "alexnet-audit"


def package_digest(root: Path = PACKAGE) -> str:
    """SHA-256 over every file of the package (source and data), by relative path and content."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not _SKIPPED_DIRS & set(p.relative_to(root).parts)
                       and p.suffix != ".pyc"):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)  # reads the installed metadata: imports nothing of it
    except metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True)
class Stamp:
    """What every key of one run shares: the tool's code and the counters' versions."""

    tool: str
    torch: str
    fvcore: str

    @classmethod
    def installed(cls) -> Stamp:
        return cls(package_digest(), _version("torch"), _version("fvcore"))


def measured_part(spec: Spec) -> dict[str, object]:
    """What the measurement reads of a spec document: its input, class count, layers and blocks,
    and the initialisers its layers fall back to (the meta build tries them). Claims, title,
    source, training and notes are left out: changing them keeps the key."""
    doc = spec.doc
    fallback = doc.init or FRAMEWORK_DEFAULTS[doc.source.framework]
    return {
        "input": list(doc.input),
        "num_classes": doc.num_classes,
        "layers": doc.model_dump(mode="json", include={"layers"})["layers"],
        "init": fallback.model_dump(mode="json"),
    }


def cache_key(spec: Spec, stamp: Stamp) -> str:
    material = {"format": FORMAT, "spec": measured_part(spec), "stamp": dataclasses.asdict(stamp)}
    return hashlib.sha256(json.dumps(material, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class _Strict(BaseModel):
    # The config reaches the nested dataclasses too: no unknown field, no lax coercion, no NaN.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class _Header(_Strict):
    format: int
    key: str
    sha256: str


class _Payload(_Strict):
    """An Analysis without its Spec; the nested dataclasses are validated field by field, strictly."""

    layers: tuple[LayerResult, ...]
    stages: tuple[StageResult, ...]
    totals: Totals
    incomplete: tuple[str, ...]
    disagreements: tuple[str, ...]
    modules: tuple[ModuleInfo, ...]


@dataclass(frozen=True)
class Lookup:
    analysis: Analysis | None  # None: measure afresh
    note: str | None = None  # why an entry that was there could not be used


@dataclass(frozen=True)
class AnalysisCache:
    """Where entries live and how many are kept; nothing is read or written until a spec is looked up."""

    directory: Path
    max_entries: int = MAX_ENTRIES
    max_age_days: float = MAX_AGE_DAYS

    def entry(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def read(self, key: str, spec: Spec) -> Lookup:
        path = self.entry(key)
        try:
            os.stat(path)
        except FileNotFoundError:
            return Lookup(None)
        except OSError as exc:
            return Lookup(None, self._note(f"cannot read {self.directory}: {_why(exc)}"))
        try:
            analysis = _decode(read_bounded(path, MAX_ENTRY_BYTES, "the cache entry"), key, spec)
        except AuditError as exc:
            if not os.path.lexists(path):
                return Lookup(None)  # removed since the stat, by another run's prune: a miss
            return Lookup(None, self._note(f"ignored {path}: {exc.message}"))
        _touch(path)
        return Lookup(analysis)

    def write(self, key: str, analysis: Analysis) -> str | None:
        """Store `analysis` under `key`; a one-line note when it cannot be written."""
        data = encode(key, analysis)
        if len(data) > MAX_ENTRY_BYTES:
            return None  # an entry this large would be refused when read: not worth writing
        try:
            write_atomic(self.entry(key), data)
        except AuditError as exc:
            why = exc.message.removeprefix("cannot write: ")
            return f"analysis cache: cannot write to {self.directory}: {why}; this run's measurements are not kept"
        return None

    def _note(self, text: str) -> str:
        return f"analysis cache: {text}; measured afresh"


def _touch(path: Path) -> None:
    """Mark an entry as used now, so that pruning keeps what runs keep reading."""
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only directory, or pruned meanwhile: the analysis was read all the same


def header_key(head: bytes) -> str | None:
    """The key an entry's header line (the start of the file) names, of any format; None when it is
    not an entry's header, so not a file of ours."""
    line, newline, _ = head.partition(b"\n")
    try:
        return _Header.model_validate_json(line).key if newline else None
    except ValidationError:
        return None


def _why(exc: OSError) -> str:
    return "not a directory" if exc.errno == errno.ENOTDIR else (exc.strerror or str(exc))


def encode(key: str, analysis: Analysis) -> bytes:
    body = {f.name: getattr(analysis, f.name) for f in dataclasses.fields(analysis) if f.name != "spec"}
    payload = pydantic_core.to_json(body)  # dataclasses and tuples as JSON objects and arrays, compact
    header = {"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload


def _integers(value: object) -> Iterator[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _integers(item)
    elif isinstance(value, BaseModel) or dataclasses.is_dataclass(value):
        for name in (type(value).model_fields if isinstance(value, BaseModel) else (f.name for f in dataclasses.fields(value))):
            yield from _integers(getattr(value, name))


def _decode(raw: bytes, key: str, spec: Spec) -> Analysis:
    """The entry's Analysis with `spec` attached; AuditError for anything short of a whole, matching entry."""
    if len(raw) > MAX_ENTRY_BYTES:
        raise AuditError(f"larger than {MAX_ENTRY_BYTES} bytes")
    head, newline, payload = raw.partition(b"\n")
    try:
        header = _Header.model_validate_json(head)
        if not newline or header.format != FORMAT or header.key != key:
            raise AuditError("written under another key or format")
        if hashlib.sha256(payload).hexdigest() != header.sha256:
            raise AuditError("truncated or edited (its checksum does not match)")
        body = _Payload.model_validate_json(payload)
    except ValidationError as exc:
        raise AuditError(f"not a cache entry ({exc.errors(include_url=False)[0]['msg']})") from None
    if any(abs(n) > MAX_INT for n in _integers(body)):
        raise AuditError(f"a figure beyond {MAX_INT:.0e}, which no measurement gives")
    names = [layer.name for layer in spec.layers]
    if [lr.name for lr in body.layers] != names or [m.name for m in body.modules] != names or \
            [s.name for s in body.stages] != list(spec.stages):
        raise AuditError("its layers are not this spec's")
    return Analysis(spec, body.layers, body.stages, body.totals, body.incomplete, body.disagreements, body.modules)
