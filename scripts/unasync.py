#!/usr/bin/env python3
"""Generate the blocking API (``pgwire/api/_sync``) from the asyncio one (``pgwire/api/_async``).

The API is written once, as asyncio code.  This transform makes the
blocking modules from it, psycopg 3's way:

* ``async def`` / ``async with`` / ``async for`` lose ``async``, and
  ``await`` is dropped;
* names are renamed (``__aenter__`` -> ``__enter__``, ``StopAsyncIteration``
  -> ``StopIteration``, ``AsyncFlavour`` -> ``SyncFlavour``,
  ``AsyncioDriver`` -> ``BlockingDriver``...: see ``NAMES``), also in
  strings where a phrase says it (``STRINGS``);
* a block ``if True:  # ASYNC`` is asyncio-only: it is dropped, and its
  ``else:`` branch, if any, becomes the blocking code in its place;
* ``from x import a, b`` lists are deduplicated and sorted again (two
  names may have become one).

Everything that really differs between the two APIs is in
``pgwire/api/flavours.py``; the rest is the same text.  Layout and comments
are kept, so the generated files read like hand-written ones.

Usage::

    python scripts/unasync.py           # write the generated files
    python scripts/unasync.py --check   # exit 1 and name them if any is stale

``tests/unit/api/test_generated.py`` runs the check.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "pgwire" / "api" / "_async"
TARGET_DIR = ROOT / "pgwire" / "api" / "_sync"

NAMES = {
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    "StopAsyncIteration": "StopIteration",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncGenerator": "Generator",
    "AsyncFlavour": "SyncFlavour",
    "AsyncPending": "SyncPending",
    "AsyncioDriver": "BlockingDriver",
    "aio": "blocking",
    "_async": "_sync",
}

# Phrases replaced inside string literals (docstrings, messages).
STRINGS = {
    "``await pgwire.create_pool(...)``": "``pgwire.sync.create_pool(...)``",
    "The asyncio connection pool": "The blocking connection pool",
    "``await pgwire.connect(...)``": "``pgwire.connect_sync(...)``",
    "async with ": "with ",
    "async for ": "for ",
    "await ": "",
    "The asyncio connection API": "The blocking connection API",
    "pgwire.api._async": "pgwire.api._sync",
}

HEADER = (
    "# Generated from {source} by scripts/unasync.py: edit that file, not this one.\n"
)

_ASYNC_BLOCK = re.compile(r"^(?P<indent>[ \t]*)if True:[ \t]*#[ \t]*ASYNC[ \t]*$")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index after the last non-blank line of the block that starts at
    ``start`` (lines indented deeper than ``indent``)."""
    end = start
    index = start
    while index < len(lines):
        line = lines[index]
        if line.strip():
            if _indent_of(line) <= indent:
                break
            end = index + 1
        index += 1
    return end


def drop_async_blocks(source: str) -> str:
    """Replace each ``if True:  # ASYNC`` block by its ``else:`` body (or nothing)."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _ASYNC_BLOCK.match(lines[index].rstrip("\r\n"))
        if match is None:
            out.append(lines[index])
            index += 1
            continue
        indent = len(match.group("indent"))
        end = _block_end(lines, index + 1, indent)
        following = end
        while following < len(lines) and not lines[following].strip():
            following += 1
        if (following < len(lines) and _indent_of(lines[following]) == indent
                and lines[following].strip() == "else:"):
            body_end = _block_end(lines, following + 1, indent)
            for line in lines[following + 1 : body_end]:
                out.append(_dedent(line, indent))
            index = body_end
        else:
            # The blank lines around the block become one run, as long as
            # the longer of the two (an import block dropped keeps one).
            before = 0
            while before < len(out) and not out[len(out) - 1 - before].strip():
                before += 1
            out.extend(lines[end : end + max(following - end - before, 0)])
            index = following
    return "".join(out)


def _dedent(line: str, indent: int) -> str:
    if not line.strip():
        return line
    extra = _indent_of(line) - indent
    step = 4 if extra >= 4 else extra
    return line[step:]


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def rewrite_tokens(source: str) -> str:
    """Drop ``async``/``await``, rename names and phrases in strings."""
    starts = _offsets(source)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits: list[tuple[int, int, str]] = []

    def offset(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    for index, token in enumerate(tokens):
        start, end = offset(token.start), offset(token.end)
        if token.type == tokenize.NAME:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if token.string == "async" and following is not None and following.string in (
                "def", "with", "for"
            ):
                edits.append((start, offset(following.start), ""))
            elif token.string == "await" and following is not None:
                edits.append((start, offset(following.start), ""))
            elif token.string in NAMES:
                edits.append((start, end, NAMES[token.string]))
        elif token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            text = token.string
            for old, new in STRINGS.items():
                text = text.replace(old, new)
            if text != token.string:
                edits.append((start, end, text))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _sort_key(name: str) -> tuple[int, str]:
    # isort's (and ruff's) order-by-type: CONSTANTS, Classes, functions.
    bare = name.split(" as ")[0]
    kind = 0 if bare.isupper() and len(bare) > 1 else 1 if bare[:1].isupper() else 2
    return kind, bare


def _used_names(tree: ast.Module) -> set[str]:
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    for node in tree.body:  # names exported by __all__ count as used
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            used.update(
                element.value for element in ast.walk(node.value)
                if isinstance(element, ast.Constant) and isinstance(element.value, str)
            )
    return used


def tidy_imports(source: str) -> str:
    """Deduplicate and re-sort the names of ``from ... import`` statements, and
    drop the names only asyncio-only code used."""
    tree = ast.parse(source)
    used = _used_names(tree)
    lines = source.splitlines(keepends=True)
    replacements: list[tuple[int, int, str]] = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.end_lineno is None:
            continue
        names = []
        for alias in node.names:
            spelled = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
            bound = alias.asname or alias.name
            if spelled not in names and (bound in used or node.module == "__future__"):
                names.append(spelled)
        ordered = sorted(names, key=_sort_key)
        original = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names]
        if ordered == original:
            continue
        if not ordered:
            replacements.append((node.lineno - 1, node.end_lineno, ""))
            continue
        module = "." * node.level + (node.module or "")
        single = f"from {module} import {', '.join(ordered)}\n"
        if len(single) <= 100:
            text = single
        else:
            text = f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")\n"
        replacements.append((node.lineno - 1, node.end_lineno, text))
    for first, last, text in sorted(replacements, reverse=True):
        lines[first:last] = [text]
    return "".join(lines)


def convert(source: str, source_name: str) -> str:
    """The blocking module generated from the asyncio module ``source``."""
    converted = tidy_imports(rewrite_tokens(drop_async_blocks(source)))
    return HEADER.format(source=source_name) + converted


def generated_files() -> dict[Path, str]:
    """Each generated file's path and the text it must have."""
    files = {}
    for path in sorted(SOURCE_DIR.glob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        files[TARGET_DIR / path.name] = convert(path.read_text(encoding="utf-8"), name)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    expected = generated_files()
    stale = [path for path, text in expected.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    extra = [path for path in TARGET_DIR.glob("*.py") if path not in expected]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python scripts/unasync.py)")
        for path in extra:
            print(f"not generated from any source: {path.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    TARGET_DIR.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(expected[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
