"""A reader's walk over a listing's statements: evaluates what is written, runs nothing.

Assignments, `if` on known values, `for` over known lists (unrolled), method and function
calls of the listing itself are followed; every call of a framework goes to the reader's
`Hooks`, which turns layer constructors into templates and applying them to the network's
tensor into spec layers. What cannot be followed is noted with its line (`strict` walks, over
the model's own code) or passed over (the rest of the file).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import AuditError
from .consts import (
    BUILTINS,
    ClassRef,
    Container,
    Function,
    Method,
    Obj,
    Opaque,
    Ref,
    Template,
    Tensor,
    Unknown,
    binop,
    bounded,
    builtin,
    compare,
    plain,
    truth,
    unary,
)
from .hooks import Hooks, NotMine
from .names import bound_names
from .reading import Check, Reading
from .segments import Segments

MAX_STEPS = 200_000  # statements per walk: a listing's training loop must not keep us busy
MAX_DEPTH = 12


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Walk:
    def __init__(self, tree: ast.Module, text: str, reading: Reading, hooks: Hooks, sets: dict[str, Any],
                 file_line: Callable[[int], int]) -> None:
        self.tree = tree
        self.file_line = file_line
        self.segments = Segments(text)
        self.reading = reading
        self.hooks = hooks
        self.sets = sets
        self.bound = bound_names(tree)
        self.module: dict[str, Any] = {}
        self.steps = 0
        self.depth = 0
        self.strict = False  # walking the model's own code: what cannot be read is named

    def code(self, node: ast.AST) -> str:
        return self.segments.code(node)

    def where(self, node: ast.stmt | ast.expr) -> str:
        """A call as a refusal names it: its line in the file, then its code."""
        return f"line {self.file_line(node.lineno)}: {self.code(node)}"

    # ------------------------------------------------------------ statements

    def run_module(self) -> None:
        try:
            self.run(self.tree.body, self.module, strict=False)
        except _Return:
            pass  # ast accepts a top-level `return` (only compiling refuses it): the walk ends there

    def run(self, body: list[ast.stmt], env: dict[str, Any], strict: bool) -> None:
        outer, self.strict = self.strict, strict
        try:
            self._run(body, env)
        finally:
            self.strict = outer

    def _run(self, body: list[ast.stmt], env: dict[str, Any]) -> None:
        """The statements in turn, under the strictness `run` set (nested blocks keep it)."""
        for stmt in body:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise AuditError(f"line {stmt.lineno}: the listing's top level is too long to walk statically")
            try:
                self.stmt(stmt, env)
            except Unknown as exc:
                model = self.strict or _touches_model(stmt, env)
                if exc.undefined and model:
                    self.undefined(exc)
                if model:
                    self.reading.note_unreadable(exc.line, f"{exc.message}: {self.code(stmt)}")
                for target in _targets(stmt):
                    env[target] = Opaque(target)

    def undefined(self, exc: Unknown) -> None:
        raise AuditError(f"line {self.file_line(exc.line)}: {exc.name} is used but never defined in the listing; "
                         f"give its value with --set {exc.name}=VALUE")

    def stmt(self, stmt: ast.stmt, env: dict[str, Any]) -> None:
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value, env)
        elif isinstance(stmt, ast.Assign):
            hint = _hint(stmt.targets[0])
            value = self.eval(stmt.value, env, hint)
            for target in stmt.targets:
                self.assign(target, value, env)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, env, _hint(stmt.target)), env)
        elif isinstance(stmt, ast.AugAssign):
            self.augassign(stmt, env)
        elif isinstance(stmt, ast.If):
            branch = stmt.body if truth(self.eval(stmt.test, env), stmt.lineno) else stmt.orelse
            self._run(branch, env)
        elif isinstance(stmt, ast.For):
            self.loop(stmt, env)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    for name in _names(item.optional_vars):
                        env[name] = Opaque(name)
            self._run(stmt.body, env)
        elif isinstance(stmt, ast.Try):
            self._run(stmt.body, env)
        elif isinstance(stmt, ast.Return):
            raise _Return(self.eval(stmt.value, env) if stmt.value is not None else None)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            env[stmt.name] = Function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            env[stmt.name] = ClassRef(stmt)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                env[alias.asname or alias.name.split(".")[0]] = Ref(alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                env[alias.asname or alias.name] = Ref(f"{stmt.module or ''}.{alias.name}".lstrip("."))
        elif isinstance(stmt, ast.While) and self.strict:
            self.reading.note_unreadable(stmt.lineno, "a while loop is not followed statically")

    def loop(self, stmt: ast.For, env: dict[str, Any]) -> None:
        items = self.eval(stmt.iter, env)
        if isinstance(items, Container):
            items = [item for _, item in items.items]
        if isinstance(items, dict):
            items = list(items)
        if not isinstance(items, (list, tuple)):
            raise Unknown(f"a loop over {self.code(stmt.iter)}, whose length is not known statically", stmt.lineno)
        for item in items:
            self.assign(stmt.target, item, env)
            self._run(stmt.body, env)

    def augassign(self, stmt: ast.AugAssign, env: dict[str, Any]) -> None:
        current = self.eval(stmt.target, env) if isinstance(stmt.target, (ast.Name, ast.Attribute)) else None
        value = self.eval(stmt.value, env)
        if isinstance(current, list) and isinstance(stmt.op, ast.Add) and isinstance(value, (list, tuple)):
            current.extend(value)
            return
        self.assign(stmt.target, self.binop(stmt.op, current, value, stmt), env)

    def assign(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, env)
            if isinstance(owner, Obj):
                owner.attrs[target.attr] = _named(value, target.attr)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (tuple, list)) and len(value) == len(target.elts):
                for t, v in zip(target.elts, value):
                    self.assign(t, v, env)
            else:
                for name in _names(target):
                    env[name] = Opaque(name)

    # ------------------------------------------------------------ expressions

    def eval(self, node: ast.expr, env: dict[str, Any], hint: str | None = None) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id, env, line)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.eval(node.value, env), node.attr, line)
        if isinstance(node, ast.Call):
            return self.call(node, env, hint)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.eval(node.left, env), self.eval(node.right, env), node)
        if isinstance(node, ast.UnaryOp):
            return unary(node.op, self.eval(node.operand, env), line)
        if isinstance(node, ast.BoolOp):
            values = [truth(self.eval(v, env), line) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            return compare(node.ops, [self.eval(node.left, env)] + [self.eval(c, env) for c in node.comparators], line)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body if truth(self.eval(node.test, env), line) else node.orelse, env, hint)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = self.sequence(node.elts, env)
            return bounded(tuple(items) if isinstance(node, ast.Tuple) else items, line)
        if isinstance(node, ast.Dict):
            pairs = [(self.eval(k, env), self.eval(v, env)) for k, v in zip(node.keys, node.values) if k is not None]
            try:
                return dict(pairs)
            except TypeError:  # {[1]: 2}: a list or dict as a key, which Python refuses
                raise Unknown("a dict key that is not hashable", line) from None
        if isinstance(node, ast.Subscript):
            return self.subscript(self.eval(node.value, env), self.eval(node.slice, env), line)
        if isinstance(node, ast.ListComp) and len(node.generators) == 1:
            return self.comprehension(node, env)
        if isinstance(node, ast.Slice):
            parts = [self.eval(p, env) if p is not None else None for p in (node.lower, node.upper, node.step)]
            return slice(*parts)
        return Opaque(self.code(node))

    def sequence(self, elts: list[ast.expr], env: dict[str, Any]) -> list[Any]:
        items: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                value = self.eval(elt.value, env)
                if isinstance(value, Container):
                    value = [item for _, item in value.items]
                if not isinstance(value, (list, tuple)):
                    raise Unknown(f"*{self.code(elt.value)} is not known statically", elt.lineno)
                items.extend(value)
            else:
                items.append(self.eval(elt, env))
        return items

    def comprehension(self, node: ast.ListComp, env: dict[str, Any]) -> list[Any]:
        gen = node.generators[0]
        items = self.eval(gen.iter, env)
        if not isinstance(items, (list, tuple)):
            raise Unknown(f"a comprehension over {self.code(gen.iter)}, not known statically", node.lineno)
        local = dict(env)
        out = []
        for item in items:
            self.assign(gen.target, item, local)
            if all(truth(self.eval(cond, local), node.lineno) for cond in gen.ifs):
                out.append(self.eval(node.elt, local))
        return bounded(out, node.lineno)

    def lookup(self, name: str, env: dict[str, Any], line: int) -> Any:
        value = env.get(name, self.module.get(name, _MISSING))
        if (value is _MISSING or isinstance(value, Opaque)) and name in self.sets:
            if name not in self.bound:
                self.reading.checks.append(Check("undefined_name", name, None, line, name))
            return self.sets[name]
        if value is not _MISSING:
            return value
        if name in BUILTINS:
            return Ref(f"builtins.{name}")
        if name in self.hooks.known:
            return Ref(name)
        if name not in self.bound:
            raise Unknown(f"{name} is never defined in the listing", line, name=name, undefined=True)
        return Opaque(name)

    def attribute(self, owner: Any, attr: str, line: int) -> Any:
        if isinstance(owner, Ref):
            return Ref(f"{owner.path}.{attr}")
        if isinstance(owner, Obj):
            if attr in owner.attrs:
                return owner.attrs[attr]
            method = owner.method(attr)
            return Function(method, owner) if method else Opaque(f"self.{attr}")
        if isinstance(owner, Opaque):
            return Opaque(f"{owner.name}.{attr}")
        return Method(owner, attr)

    def subscript(self, value: Any, index: Any, line: int) -> Any:
        if isinstance(value, Container):
            value = [item for _, item in value.items]
        if isinstance(value, (list, tuple, dict, str)) and plain(index) or isinstance(index, slice):
            try:
                return value[index]
            except (KeyError, IndexError, TypeError):
                raise Unknown("an index that does not evaluate", line) from None
        if isinstance(value, Tensor):
            return value
        return Opaque("subscript")

    def binop(self, op: ast.operator, left: Any, right: Any, node: ast.expr | ast.stmt) -> Any:
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            try:
                return self.hooks.binop(self, op, left, right, node)
            except NotMine:
                self.reading.note_unreadable(node.lineno, f"{self.code(node)}: an operation joining tensors "
                                             "(a branch) is not read statically; import the live model with --module")
                return left if isinstance(left, Tensor) else right
        return binop(op, left, right, node.lineno)

    def call(self, node: ast.Call, env: dict[str, Any], hint: str | None) -> Any:
        callee = self.eval(node.func, env)
        args = self.sequence(node.args, env)
        kwargs = {k.arg: self.eval(k.value, env) for k in node.keywords if k.arg is not None}
        if isinstance(callee, Ref) and callee.path.startswith("builtins."):
            name = callee.last
            if name in ("print", "super", "isinstance", "open", "setattr", "getattr", "hasattr", "type"):
                return Opaque(name)
            return builtin(name, args, node.lineno)
        if isinstance(callee, Function):
            try:
                return self.hooks.function(self, callee, args, node)
            except NotMine:
                return self.invoke(callee, args, kwargs, node)
        try:
            return self.hooks.call(self, callee, args, kwargs, node, hint)
        except NotMine:
            pass
        values = list(args) + list(kwargs.values())
        tensor = next((a for a in values if isinstance(a, Tensor)), None)
        if tensor is not None:
            self.reading.note_unreadable(node.lineno, f"{self.code(node)}: a call on the network's tensor that this "
                                         "importer does not read (passed over)")
            return tensor
        joined = [t for a in values if isinstance(a, (list, tuple)) for t in a if isinstance(t, Tensor)]
        if joined:
            self.reading.note_unreadable(node.lineno, f"{self.code(node)}: a call joining tensors (a branch) is not read "
                                         "statically; the first branch is kept; import the live model with --module")
            return joined[0]
        return Opaque(self.code(node.func))

    def invoke(self, fn: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        """Follow a call of the listing's own function (a helper method of the model, say)."""
        if self.depth >= MAX_DEPTH:
            raise Unknown("calls nested too deep to follow", getattr(node, "lineno", 0))
        params = fn.node.args
        names = [a.arg for a in params.posonlyargs + params.args]
        values = ([fn.owner] if fn.owner is not None else []) + list(args)
        env: dict[str, Any] = {n: Opaque(n) for n in names + [a.arg for a in params.kwonlyargs]}
        defaults = params.defaults
        for n, d in zip(names[len(names) - len(defaults):], defaults):
            env[n] = self.eval(d, self.module)
        for kw, kw_default in zip(params.kwonlyargs, params.kw_defaults):
            if kw_default is not None:
                env[kw.arg] = self.eval(kw_default, self.module)
        env.update(zip(names, values))
        env.update({k: v for k, v in kwargs.items() if k in env})
        for name in [n for n in self.sets if n in env and env[n] != self.sets[n]]:
            env[name] = self.sets[name]  # --set wins over a default and over the listing's own call
            self.reading.note_assumed(f"{name} = {self.sets[name]!r} (from --set) in {fn.node.name}()")
        self.depth += 1
        try:
            self.run(fn.node.body, env, strict=fn.owner is not None or self.strict)
        except _Return as ret:
            return ret.value
        finally:
            self.depth -= 1
        return None


_MISSING = object()


def _named(value: Any, name: str) -> Any:
    if isinstance(value, Template) and value.name is None:
        return replace(value, name=name)
    if isinstance(value, (Container, Obj)) and value.name is None:
        value.name = name
    return value


def _hint(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _touches_model(stmt: ast.stmt, env: dict[str, Any]) -> bool:
    """A top-level statement that builds the model (model.add(...) on a Sequential, a functional layer call)."""
    return any(isinstance(n, ast.Name) and isinstance(env.get(n.id), (Container, Tensor)) for n in ast.walk(stmt))


def _names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _targets(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Assign):
        return [n for t in stmt.targets for n in _names(t)]
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For)):
        return _names(stmt.target)
    return []
