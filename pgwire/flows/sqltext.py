"""Lexing SQL text just enough to find placeholders outside literals and comments.

Knows where string literals ('...', E'...' with backslash escapes), quoted
identifiers ("..."), dollar-quoted strings ($tag$...$tag$) and comments (--
to end of line, nested /* ... */) start and end, following PostgreSQL's
docs, "Lexical Structure" (section 4.1), so placeholders are looked for in
code only.  Used by :mod:`pgwire.dbapi` for ``%s`` placeholders and by COPY
for ``$n`` ones.
"""

from __future__ import annotations

import re

from ..exceptions import InterfaceError

# PostgreSQL's identifier characters: letters, digits, _, $ and any non-ASCII
# character.  A quote or $ right after one of them belongs to the identifier
# (int4'1' is a typed literal, a$b$ is one name), not to a new token.
NOT_AFTER_IDENT = r"(?<![A-Za-z0-9_$\u0080-\U0010FFFF])"

# The start of something to skip: string, identifier, dollar quote, comment.
SKIP_START = (
    r"['\"]|--|/\*|" + NOT_AFTER_IDENT
    + r"(?:[eE]'|\$(?:[A-Za-z_\u0080-\U0010FFFF][A-Za-z0-9_\u0080-\U0010FFFF]*)?\$)"
)

# The body and closing quote of each kind of quoted token.  Each always
# matches (an unterminated token runs to the end, the server then reports
# it) and never backtracks.
_STANDARD_STRING_END = re.compile(r"(?:[^']+|'')*(?:'|\Z)")
_ESCAPE_STRING_END = re.compile(r"(?:[^'\\]+|''|\\[\s\S]?)*(?:'|\Z)")
_IDENTIFIER_END = re.compile(r'(?:[^"]+|"")*(?:"|\Z)')
_COMMENT_DELIMITER = re.compile(r"/\*|\*/")

_NUMBERED_PARAM_OR_SKIP = re.compile(SKIP_START + "|" + NOT_AFTER_IDENT + r"\$([0-9]+)")


def skip(query: str, token: str, start: int, standard_strings: bool = True) -> int:
    """The end of the string, identifier or comment that ``token`` opens at ``start``.

    ``standard_strings`` is the server's ``standard_conforming_strings``:
    when off, a backslash escapes a quote in ``'...'`` too.
    """
    after = start + len(token)
    first = token[0]
    if first == "'":
        end_re = _STANDARD_STRING_END if standard_strings else _ESCAPE_STRING_END
        return end_re.match(query, after).end()  # type: ignore[union-attr]
    if first in "eE":
        return _ESCAPE_STRING_END.match(query, after).end()  # type: ignore[union-attr]
    if first == '"':
        return _IDENTIFIER_END.match(query, after).end()  # type: ignore[union-attr]
    if first == "$":  # $tag$ ... $tag$
        end = query.find(token, after)
        return len(query) if end < 0 else end + len(token)
    if token == "--":
        end = query.find("\n", after)
        return len(query) if end < 0 else end + 1
    # /* ... */, which nests in PostgreSQL
    depth = 1
    pos = after
    while depth:
        match = _COMMENT_DELIMITER.search(query, pos)
        if match is None:
            return len(query)
        depth += 1 if match.group() == "/*" else -1
        pos = match.end()
    return pos


def replace_numbered_params(sql: str, replacements: list[str],
                            standard_strings: bool = True) -> str:
    """Replace ``$1``..``$n`` in code with ``replacements[0..n-1]``."""
    parts: list[str] = []
    copied = pos = 0
    while (match := _NUMBERED_PARAM_OR_SKIP.search(sql, pos)) is not None:
        number = match.group(1)
        if number is None:
            pos = skip(sql, match.group(), match.start(), standard_strings)
            continue
        index = int(number) - 1
        if 0 <= index < len(replacements):
            parts.append(sql[copied : match.start()])
            parts.append(replacements[index])
            copied = match.end()
        pos = match.end()
    parts.append(sql[copied:])
    return "".join(parts)


_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|\()*")
_WORD = re.compile(r"[A-Za-z_]+")


def first_keyword(sql: str) -> str:
    """The statement's first word, upper-cased, after blanks, ( and -- comments."""
    pos = _LEADING.match(sql).end()  # type: ignore[union-attr]
    while sql.startswith("/*", pos):
        pos = skip(sql, "/*", pos)
        pos = _LEADING.match(sql, pos).end()  # type: ignore[union-attr]
    match = _WORD.match(sql, pos)
    return match.group().upper() if match else ""


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (a channel name, a table name) for the server."""
    if not isinstance(name, str) or not name:
        raise InterfaceError(f"expected a non-empty identifier, got {name!r}")
    if "\x00" in name:
        raise InterfaceError("an identifier cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'
