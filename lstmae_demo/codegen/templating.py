"""Code templates: real, lintable Python files under codegen/templates/, cut into blocks.

A template file is a valid Python module, so ruff and a reader can check every line of the
code we export. Only the text between a `# <<< name` line and the next `# >>>` line is
exported; the rest of the file (imports, stand-ins for the exported constants) is there for
the linter. Inside a block:

    # [if flag]  /  # [if not flag]  /  # [if a or b]   ...   # [else]   ...   # [end]

keeps or drops the lines that follow by the spec's flags (nested freely; marker lines are
dropped), and each whole identifier named in `values` is replaced by its text. The files are
read relative to this package, so a clean clone needs nothing installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from textwrap import dedent

START = re.compile(r"^\s*# <<< (\w+)\s*$")
STOP = re.compile(r"^\s*# >>>\s*$")
IF = re.compile(r"^\s*# \[if (.+)\]\s*$")
ELSE = re.compile(r"^\s*# \[else\]\s*$")
END = re.compile(r"^\s*# \[end\]\s*$")


class TemplateError(ValueError):
    """A template file is malformed, or asks for a block or flag that does not exist."""


@cache
def read(path: str) -> str:
    """The text of templates/<path>, read from the package itself."""
    return (resources.files(__package__) / "templates" / path).read_text(encoding="utf-8")


@cache
def blocks(path: str) -> dict[str, tuple[str, ...]]:
    """Every `# <<< name` ... `# >>>` block of templates/<path>, as raw lines."""
    found: dict[str, tuple[str, ...]] = {}
    name, lines = None, []
    for number, line in enumerate(read(path).splitlines(), start=1):
        if (start := START.match(line)) is not None:
            if name is not None:
                raise TemplateError(f"{path}:{number}: block {start[1]!r} opens inside {name!r}")
            name, lines = start[1], []
        elif STOP.match(line):
            if name is None:
                raise TemplateError(f"{path}:{number}: '# >>>' closes no block")
            if name in found:
                raise TemplateError(f"{path}: block {name!r} is defined twice")
            found[name], name = tuple(lines), None
        elif name is not None:
            lines.append(line)
    if name is not None:
        raise TemplateError(f"{path}: block {name!r} is never closed with '# >>>'")
    return found


def block(path: str, name: str, flags: Iterable[str] = (), known: Iterable[str] = (),
          values: Mapping[str, str] | None = None) -> str:
    """Block `name` of templates/<path>, kept by `flags` (all of them in `known`), dedented."""
    found = blocks(path)
    if name not in found:
        raise TemplateError(f"{path} has no block {name!r}; it has {', '.join(found)}")
    kept = select(found[name], frozenset(flags), frozenset(known) | frozenset(flags), path)
    text = dedent("\n".join(kept)).strip("\n")
    for key, value in (values or {}).items():
        text = re.sub(rf"\b{re.escape(key)}\b", lambda _m, v=value: v, text)
    return text


def select(lines: Iterable[str], flags: frozenset[str], known: frozenset[str],
           where: str) -> list[str]:
    """The lines whose enclosing `# [if ...]` conditions hold for `flags`."""
    kept: list[str] = []
    stack: list[bool] = []  # whether each open branch holds; a line is kept if all do
    for line in lines:
        if (cond := IF.match(line)) is not None:
            stack.append(holds(cond[1], flags, known, where))
        elif ELSE.match(line):
            if not stack:
                raise TemplateError(f"{where}: '# [else]' without '# [if ...]'")
            stack.append(not stack.pop())
        elif END.match(line):
            if not stack:
                raise TemplateError(f"{where}: '# [end]' without '# [if ...]'")
            stack.pop()
        elif all(stack):
            kept.append(line)
    if stack:
        raise TemplateError(f"{where}: an '# [if ...]' is never closed with '# [end]'")
    return kept


def holds(condition: str, flags: frozenset[str], known: frozenset[str], where: str) -> bool:
    """`a or not b or ...` for this spec's flags; a flag nobody defines is a typo: refused."""
    result = False
    for term in condition.split(" or "):
        negated = term.startswith("not ")
        flag = term.removeprefix("not ").strip()
        if flag not in known:
            raise TemplateError(f"{where}: unknown flag {flag!r} in '# [if {condition}]'; "
                                f"known: {', '.join(sorted(known))}")
        result = result or ((flag in flags) != negated)
    return result
