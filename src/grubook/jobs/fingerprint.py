"""Fingerprints of what a result depends on: the meaning of the code a job can reach, not its bytes.

A job (one training run) is a module-level function of grubook called with plain arguments. What
it computes depends on the code it can reach from that function, on the arguments and on the
packages that do the arithmetic; nothing else. This module reads grubook's sources with
:mod:`ast` and gives each top-level definition (a function, a class, a constant, a module's other
top-level statements) a digest of its syntax tree **with every docstring removed**. Comments and
blank lines never reach the tree. So editing a docstring, a comment or the layout of a file changes
no digest, and no result goes stale.

A definition *reaches* what it names: a function or constant of its own module, a name imported
from another grubook module, an attribute of an imported grubook module (``loop.seed_everything``),
or, when a module itself is passed around as a value, every definition of that module. Every
definition also reaches the top-level statements of its module and of the packages above it, which
run when it is imported (``grubook/__init__.py`` sets the Keras backend). Names from other packages
(NumPy, Keras) are not followed: :func:`grubook.jobs.environment.fingerprint` covers them by
their versions. The reach is a safe over-approximation: a local variable that shares a module-level
name adds that name, never the reverse.

No docstring reaches a result: the only code that reads docstrings or sources (the claims audit,
figure alt text, the concepts chapter's operation counts) runs while the book builds, from results,
and a test checks that no job can reach ``inspect.getsource``, ``getdoc`` or ``__doc__``.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PACKAGE_ROOT", "CodeIndex", "Definition", "qualname_of", "canonical", "digest", "code_index"]

PACKAGE_ROOT = Path(__file__).resolve().parents[1]        # src/grubook
TOPLEVEL = "<toplevel>"                                   # a module's statements other than definitions


def digest(value) -> str:
    """SHA-256 of a JSON-able value in canonical form (sorted keys, no spaces)."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def canonical(value) -> str:
    """The canonical JSON text of plain arguments: sorted keys, tuples as lists, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_refuse)


def _refuse(value):
    raise TypeError(f"job arguments must be plain JSON values; got {type(value).__name__} {value!r:.80}")


def qualname_of(function) -> str:
    """``grubook.training.runs:adding_run`` for a module-level function."""
    if "." in function.__qualname__ or function.__qualname__ != function.__name__:
        raise ValueError(f"a job function must be defined at module level, got {function.__qualname__}")
    return f"{function.__module__}:{function.__qualname__}"


@dataclass(frozen=True)
class Definition:
    qualname: str                 # "grubook.training.runs:adding_run"
    path: str                     # file, relative to the package's parent ("grubook/training/runs.py")
    digest: str                   # of the syntax tree without docstrings
    names: frozenset              # (kind, ...) references, resolved by CodeIndex


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _tree_digest(nodes) -> str:
    text = "\n".join(ast.dump(_strip_docstrings(node), annotate_fields=False, include_attributes=False)
                     for node in nodes)
    return hashlib.sha256(text.encode()).hexdigest()


class _Module:
    """One parsed module: its definitions, its imports and where they point."""

    def __init__(self, name: str, path: Path, is_package: bool, rel: str):
        self.name, self.path, self.is_package, self.rel = name, path, is_package, rel
        self.tree = ast.parse(path.read_text(), filename=str(path))
        self.package = name if is_package else name.rpartition(".")[0]
        self.imports = self._imports(self.tree.body)
        self.nodes: dict[str, list[ast.AST]] = {}
        for node in self.tree.body:
            for name_ in self._defined_names(node):
                self.nodes.setdefault(name_, []).append(node)

    def _absolute(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        base = self.package.split(".")
        base = base[:len(base) - (level - 1)] if level > 1 else base
        return ".".join(base + ([module] if module else []))

    def _imports(self, statements) -> dict[str, tuple]:
        """{local name: ("module", dotted) or ("symbol", dotted module, attribute)}."""
        out = {}
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        out[alias.asname] = ("module", alias.name)
                    else:
                        out[alias.name.split(".")[0]] = ("module", alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                source = self._absolute(node.module, node.level)
                for alias in node.names:
                    out[alias.asname or alias.name] = ("symbol", source, alias.name)
        return out

    @staticmethod
    def _defined_names(node) -> list[str]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return [node.name]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return []
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return []                                  # the module docstring (or a stray string)
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        if names == ["__all__"]:
            return []                                  # what `import *` exports: no behaviour here
        return names or [TOPLEVEL]


class CodeIndex:
    """Every definition of a package, with its digest and what it reaches."""

    def __init__(self, root: Path = PACKAGE_ROOT, package: str = "grubook"):
        self.root, self.package = Path(root), package
        self.modules: dict[str, _Module] = {}
        for path in sorted(self.root.rglob("*.py")):
            parts = path.relative_to(self.root).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join((package,) + (parts[:-1] if is_package else parts))
            rel = f"{package}/{path.relative_to(self.root).as_posix()}"
            self.modules[name] = _Module(name, path, is_package, rel)
        self.definitions: dict[str, Definition] = {}
        for module in self.modules.values():
            for name, nodes in module.nodes.items():
                qualname = f"{module.name}:{name}"
                self.definitions[qualname] = Definition(qualname, module.rel, _tree_digest(nodes),
                                                        frozenset(self._references(module, nodes)))
        self._reach: dict[str, frozenset] = {}

    # ------------------------------------------------------------------ resolving names

    def _module_definitions(self, module: str) -> set[str]:
        m = self.modules.get(module)
        return {f"{module}:{name}" for name in m.nodes} if m else set()

    def _symbol(self, module: str, attribute: str, seen=()) -> set[str]:
        """What ``module.attribute`` names: a definition, a re-exported one, or a whole submodule."""
        m = self.modules.get(module)
        if m is None:
            return set()                               # outside the package: covered by versions
        if attribute in m.nodes:
            return {f"{module}:{attribute}"}
        if f"{module}.{attribute}" in self.modules:
            return {("module", f"{module}.{attribute}")}
        target = m.imports.get(attribute)
        if target and (module, attribute) not in seen:
            seen = seen + ((module, attribute),)
            if target[0] == "module":
                return {("module", target[1])} if target[1] in self.modules else set()
            return self._symbol(target[1], target[2], seen)
        return set()

    def _references(self, module: _Module, nodes) -> set:
        local_imports = dict(module.imports)
        for node in nodes:
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and inner is not node:
                    local_imports |= module._imports([inner])
        refs: set = set()

        def resolve_chain(chain: list[str]) -> set:
            head, rest = chain[0], chain[1:]
            if head in module.nodes and head not in local_imports:
                return {f"{module.name}:{head}"}
            target = local_imports.get(head)
            if target is None:
                return set()
            found = ({("module", target[1])} if target[0] == "module" else self._symbol(target[1], target[2]))
            while rest and len(found) == 1 and isinstance(next(iter(found)), tuple):
                submodule = next(iter(found))[1]
                found = self._symbol(submodule, rest[0])
                rest = rest[1:]
            return found

        # Inside a chain ``a.b.c`` only the whole chain is resolved: its base name ``a`` alone would
        # name a whole module, and its prefix ``a.b`` perhaps a whole submodule.
        inside_chain = set()
        for node in nodes:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Attribute):
                    inside_chain.add(id(inner.value))
        for node in nodes:
            for inner in ast.walk(node):
                if id(inner) in inside_chain:
                    continue
                if isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Load):
                    chain, value = [inner.attr], inner.value
                    while isinstance(value, ast.Attribute):
                        chain.insert(0, value.attr)
                        value = value.value
                    if isinstance(value, ast.Name):
                        refs |= resolve_chain([value.id] + chain)
                elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
                    refs |= resolve_chain([inner.id])
                elif isinstance(inner, ast.ImportFrom):
                    # `from .x import y` inside a function: y is reached where it is used; what
                    # importing runs (x's top-level statements, a registration) is reached here.
                    source = module._absolute(inner.module, inner.level)
                    modules = {source} | {ref[1] for alias in inner.names for ref in self._symbol(source, alias.name)
                                          if isinstance(ref, tuple)}
                    refs |= {f"{m}:{TOPLEVEL}" for m in modules
                             if m in self.modules and TOPLEVEL in self.modules[m].nodes}
        # A name resolved to a module: the chain stopped there, so the whole module is reached.
        own = {f"{module.name}:{TOPLEVEL}"} if TOPLEVEL in module.nodes else set()
        parts = module.name.split(".")
        for i in range(1, len(parts) + 1):             # package __init__ statements run on import
            parent = ".".join(parts[:i])
            if parent in self.modules and self.modules[parent].is_package and TOPLEVEL in self.modules[parent].nodes:
                own.add(f"{parent}:{TOPLEVEL}")
        return refs | own

    # ------------------------------------------------------------------ reach and digests

    def _direct(self, qualname: str) -> set[str]:
        out = set()
        for ref in self.definitions[qualname].names:
            if isinstance(ref, tuple):                 # a whole module
                out |= self._module_definitions(ref[1])
            elif ref in self.definitions:
                out.add(ref)
        return out

    def reachable(self, qualname: str) -> frozenset:
        """Every definition ``qualname`` can reach, itself included."""
        if qualname not in self.definitions:
            raise KeyError(f"no definition {qualname!r} in {self.package}")
        if qualname not in self._reach:
            seen, todo = {qualname}, [qualname]
            while todo:
                for ref in self._direct(todo.pop()):
                    if ref not in seen:
                        seen.add(ref)
                        todo.append(ref)
            self._reach[qualname] = frozenset(seen)
        return self._reach[qualname]

    def digests(self, qualnames) -> dict[str, str]:
        """{qualname: digest} for the given definitions (sorted)."""
        return {q: self.definitions[q].digest for q in sorted(qualnames)}

    def fingerprint(self, qualnames) -> str:
        """One digest for a set of definitions: what a result computed by them depends on."""
        return digest(self.digests(qualnames))

    def file_of(self, qualname: str) -> str:
        module = qualname.partition(":")[0]
        return self.modules[module].rel if module in self.modules else module


@functools.lru_cache(maxsize=4)
def _cached_index(root: str, stamp: tuple) -> CodeIndex:
    return CodeIndex(Path(root))


def code_index(root: Path = PACKAGE_ROOT) -> CodeIndex:
    """The index of the package's current sources (re-read when a file changed)."""
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(Path(root).rglob("*.py")))
    return _cached_index(str(root), stamp)
