"""Lexing SQL text just enough to find placeholders outside literals and comments.

Splits a statement into code and non-code parts: string literals ('...',
E'...' with backslash escapes, U&'...'), quoted identifiers ("..."),
dollar-quoted strings ($tag$...$tag$) and comments (-- to end of line,
nested /* ... */), following the lexical rules of PostgreSQL's docs,
"Lexical Structure" (section 4.1).  Placeholders found only in code parts
can be rewritten safely.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)?\$")
_PARAM = re.compile(r"\$(\d+)")


def split_sql(sql: str) -> list[tuple[bool, str]]:
    """Return ``(is_code, text)`` parts that concatenate back to ``sql``."""
    parts: list[tuple[bool, str]] = []
    code_start = 0
    i = 0
    n = len(sql)

    def flush_code(end: int) -> None:
        if end > code_start:
            parts.append((True, sql[code_start:end]))

    while i < n:
        ch = sql[i]
        end = -1
        if ch == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _ident_char(sql[i - 2]))
            end = _end_of_quoted(sql, i, "'", backslash=escapes)
        elif ch == '"':
            end = _end_of_quoted(sql, i, '"', backslash=False)
        elif ch == "-" and sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = n if newline < 0 else newline + 1
        elif ch == "/" and sql.startswith("/*", i):
            end = _end_of_block_comment(sql, i)
        elif ch == "$" and (i == 0 or not _ident_char(sql[i - 1])):
            match = _DOLLAR_TAG.match(sql, i)
            if match is not None:
                tag = match.group(0)
                close = sql.find(tag, match.end())
                end = n if close < 0 else close + len(tag)
        if end < 0:
            i += 1
            continue
        flush_code(i)
        parts.append((False, sql[i:end]))
        code_start = i = end
    flush_code(n)
    return parts


def _ident_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _end_of_quoted(sql: str, start: int, quote: str, *, backslash: bool) -> int:
    i = start + 1
    n = len(sql)
    while i < n:
        ch = sql[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:  # doubled quote
                i += 2
                continue
            return i + 1
        i += 1
    return n  # unterminated: the server will say so


def _end_of_block_comment(sql: str, start: int) -> int:
    depth = 0
    i = start
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def replace_numbered_params(sql: str, replacements: list[str]) -> str:
    """Replace ``$1``..``$n`` in code parts with ``replacements[0..n-1]``."""
    out: list[str] = []
    for is_code, text in split_sql(sql):
        if not is_code:
            out.append(text)
            continue

        def substitute(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            if 0 <= index < len(replacements):
                return replacements[index]
            return match.group(0)

        out.append(_PARAM.sub(substitute, text))
    return "".join(out)
