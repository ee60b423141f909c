"""Safe YAML with a source line for every node, and the limits that keep parsing bounded."""

from __future__ import annotations

from typing import Any

import yaml

from .errors import AuditError

MAX_YAML_NODES = 20_000
MAX_YAML_DEPTH = 40


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if not isinstance(part, int) and not str(part).isprintable():
            part = repr(str(part))  # a key with a newline or control character stays on one line
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_at(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    """The line of the field at `path`, or of the nearest field holding it that has one."""
    return next((lines[path[:cut]] for cut in range(len(path), -1, -1) if path[:cut] in lines), None)


def _index_lines(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], budget: list[int], depth: int) -> None:
    """Record the 1-based line of every node; refuse alias bombs, deep nesting and duplicate keys."""
    budget[0] -= 1
    if budget[0] < 0:
        raise AuditError(f"the YAML has more than {MAX_YAML_NODES} nodes (anchors and aliases count each time they are used)")
    if depth > MAX_YAML_DEPTH:
        raise AuditError(f"the YAML nests deeper than {MAX_YAML_DEPTH} levels", line=node.start_mark.line + 1)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
            if k in seen:
                raise AuditError(f"duplicate key {k!r}", line=key.start_mark.line + 1, field=format_path(path + (k,)))
            seen.add(k)
            _index_lines(value, path + (k,), lines, budget, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), lines, budget, depth + 1)


def _parse_fast(text: str) -> tuple[Any, dict[tuple[Any, ...], int]] | None:
    """The same parse with libyaml's C parser (about ten times faster than the pure-Python one;
    the nodes, their lines and the constructed data are PyYAML's own), or None on any problem:
    the pure-Python parser then says what is wrong, in its own words, as it always has."""
    if not getattr(yaml, "__with_libyaml__", False):
        return None
    loader = None
    try:
        yaml.reader.Reader(text)  # the pure-Python reader's check for control characters
        loader = yaml.CSafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        lines: dict[tuple[Any, ...], int] = {}
        _index_lines(node, (), lines, [MAX_YAML_NODES], 0)
        return loader.construct_document(node), lines
    except Exception:  # noqa: BLE001 - every failure is reported by the pure-Python parse
        return None
    finally:
        if loader is not None:
            loader.dispose()


def parse_yaml(text: str, file: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Safe YAML to plain data plus a line for every path; any YAML problem is an AuditError."""
    fast = _parse_fast(text)
    if fast is not None:
        return fast
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        if node is None:
            raise AuditError("the file is empty", file=file)
        lines: dict[tuple[Any, ...], int] = {}
        _index_lines(node, (), lines, [MAX_YAML_NODES], 0)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise AuditError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise AuditError(f"invalid YAML: unacceptable character {char} at position {exc.position}: {exc.reason}", file=file) from None
    except yaml.YAMLError as exc:
        raise AuditError("invalid YAML: " + " ".join(str(exc).split()), file=file) from None
    except RecursionError:
        raise AuditError("the YAML nests too deeply", file=file) from None
    except ValueError as exc:  # e.g. an integer longer than Python's int-from-string limit
        raise AuditError("invalid YAML value: " + " ".join(str(exc).split()), file=file) from None
    except AuditError as exc:
        raise exc.located(file=file) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines
