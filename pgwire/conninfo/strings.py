"""Connection strings: libpq ``key=value`` strings and ``postgresql://`` URIs.

PostgreSQL docs, "Connection Strings" (libpq, section 32.1.1).  Both forms
are parsed into a ``{keyword: value}`` dict of libpq keywords; a keyword
libpq does not know is refused with libpq's own message.  Values are not
interpreted here (see :mod:`pgwire.conninfo.params`).
"""

from __future__ import annotations

from ..exceptions import ClientConfigurationError
from .keywords import KEYWORDS

URI_SCHEMES = ("postgresql://", "postgres://")


def parse_conninfo(text: str) -> dict[str, str]:
    """Split a conninfo string or URI into libpq keywords."""
    if text.startswith(URI_SCHEMES):
        return _parse_uri(text)
    if "://" in text.split("=", 1)[0]:
        scheme = text.split("://", 1)[0]
        raise ClientConfigurationError(
            f"invalid connection string scheme {scheme!r}: expected postgresql:// or postgres://"
        )
    return _parse_key_value(text)


def check_keyword(name: str) -> None:
    if name not in KEYWORDS:
        raise ClientConfigurationError(f'invalid connection option "{name}"')


def _parse_key_value(text: str) -> dict[str, str]:
    """``host=a port=5433 password='it\\'s'``: whitespace-separated pairs,
    values optionally single-quoted, backslash escaping the next character."""
    result: dict[str, str] = {}
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return result
        start = i
        while i < n and text[i] != "=" and not text[i].isspace():
            i += 1
        name = text[start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            raise ClientConfigurationError(
                f'missing "=" after "{name}" in connection info string'
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        value: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise ClientConfigurationError(
                        "unterminated quoted string in connection info string"
                    )
                ch = text[i]
                if ch == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                elif ch == "'":
                    i += 1
                    break
                else:
                    value.append(ch)
                    i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                else:
                    value.append(text[i])
                    i += 1
        check_keyword(name)
        result[name] = "".join(value)


def _percent_decode(text: str) -> str:
    """Decode %XX escapes as libpq does: a malformed escape or %00 is an error."""
    if "%" not in text:
        return text
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            token = text[i + 1 : i + 3]
            if len(token) != 2 or not all(c in "0123456789abcdefABCDEF" for c in token):
                raise ClientConfigurationError(f'invalid percent-encoded token: "{text}"')
            if token == "00":
                raise ClientConfigurationError(f'forbidden value %00 in percent-encoded value: "{text}"')
            out.append(int(token, 16))
            i += 3
        else:
            out += ch.encode("utf-8")
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientConfigurationError(f'invalid percent-encoded token: "{text}"') from None


def _parse_uri(uri: str) -> dict[str, str]:
    """``postgresql://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]``"""
    result: dict[str, str] = {}
    rest = uri.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        user, has_password, password = userinfo.partition(":")
        if user:
            result["user"] = _percent_decode(user)
        if has_password:
            result["password"] = _percent_decode(password)
    hosts: list[str] = []
    ports: list[str] = []
    for item in authority.split(",") if authority else []:
        if item.startswith("["):  # an IPv6 literal
            host, closed, after = item[1:].partition("]")
            if not closed:
                raise ClientConfigurationError(
                    f'end of string reached when looking for matching "]" in IPv6 host address '
                    f'in URI: "{uri}"'
                )
            if not host:
                raise ClientConfigurationError(f'IPv6 host address may not be empty in URI: "{uri}"')
            if after and not after.startswith(":"):
                raise ClientConfigurationError(
                    f'unexpected character "{after[0]}" at position {uri.find(after)} in URI '
                    f'(expected ":" or "/"): "{uri}"'
                )
            port = after[1:]
        else:
            host, _, port = item.partition(":")
            host = _percent_decode(host)
        hosts.append(host)
        ports.append(_percent_decode(port))
    if any(hosts):
        result["host"] = ",".join(hosts)
    if any(ports):
        result["port"] = ",".join(ports)
    if slash and path:
        result["dbname"] = _percent_decode(path)
    if query:
        for pair in query.split("&"):
            if not pair:
                continue
            name, has_value, value = pair.partition("=")
            if not has_value:
                raise ClientConfigurationError(
                    f'missing key/value separator "=" in URI query parameter: "{pair}"'
                )
            if "=" in value:
                raise ClientConfigurationError(
                    f'extra key/value separator "=" in URI query parameter: "{pair}"'
                )
            name, value = _percent_decode(name), _percent_decode(value)
            if name == "ssl" and value == "true":  # JDBC's spelling, accepted by libpq
                name, value = "sslmode", "require"
            if name not in KEYWORDS:
                raise ClientConfigurationError(f'invalid URI query parameter: "{name}"')
            result[name] = value
    return result
