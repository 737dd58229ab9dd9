"""Connection strings: libpq ``key=value`` strings and ``postgresql://`` URIs.

PostgreSQL docs, "Connection Strings" (libpq, section 32.1.1).  Both forms
are parsed into a ``{keyword: value}`` dict of libpq keywords; a keyword
libpq does not know is refused with libpq's own message.  Values are not
interpreted here (see :mod:`pgwire.conninfo.params`).

Unlike libpq's, the messages never quote the password: a URI is quoted with
its password masked, a malformed escape in the password is not quoted.
"""

from __future__ import annotations

from ..exceptions import ClientConfigurationError
from .keywords import KEYWORDS
from .secret import MASK

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
    previous = ""  # the keyword before this one
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return result
        start = i
        while i < n and text[i] != "=" and not text[i].isspace():
            i += 1
        name = text[start:i]
        # A word right after the password may be the rest of an unquoted
        # password with a space: the messages do not quote it.
        after_password = previous == "password"
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            if after_password:
                raise ClientConfigurationError(
                    'missing "=" after the word that follows the password in connection '
                    "info string (quote a password that contains spaces)"
                )
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
        if after_password and name not in KEYWORDS:
            raise ClientConfigurationError(
                "invalid connection option: the word that follows the password "
                "(quote a password that contains spaces)"
            )
        check_keyword(name)
        result[name] = "".join(value)
        previous = name


def _percent_decode(text: str, *, secret: bool = False) -> str:
    """Decode %XX escapes as libpq does: a malformed escape or %00 is an error.

    ``secret``: ``text`` is the password, which the message does not quote.
    """
    if "%" not in text:
        return text
    shown = "in the password" if secret else f'"{text}"'
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            token = text[i + 1 : i + 3]
            if len(token) != 2 or not all(c in "0123456789abcdefABCDEF" for c in token):
                raise ClientConfigurationError(f"invalid percent-encoded token: {shown}")
            if token == "00":
                raise ClientConfigurationError(
                    f"forbidden value %00 in percent-encoded value: {shown}")
            out.append(int(token, 16))
            i += 3
        else:
            out += ch.encode("utf-8")
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientConfigurationError(f"invalid percent-encoded token: {shown}") from None


def _masked_uri(uri: str) -> str:
    """``uri`` with its password (if any) masked, for error messages."""
    scheme, _, rest = uri.partition("://")
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority = rest[:end]
    if "@" not in authority:
        return uri
    userinfo, _, hosts = authority.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if not has_password:
        return uri
    return f"{scheme}://{user}:{MASK}@{hosts}{rest[end:]}"


def _parse_uri(uri: str) -> dict[str, str]:
    """``postgresql://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]``"""
    result: dict[str, str] = {}
    rest = uri.split("://", 1)[1]
    offset = len(uri) - len(rest)  # where the next host starts in uri
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        offset += len(userinfo) + 1
        user, has_password, password = userinfo.partition(":")
        if user:
            result["user"] = _percent_decode(user)
        if has_password:
            result["password"] = _percent_decode(password, secret=True)
    hosts: list[str] = []
    ports: list[str] = []
    for item in authority.split(",") if authority else []:
        if item.startswith("["):  # an IPv6 literal
            host, closed, after = item[1:].partition("]")
            if not closed:
                raise ClientConfigurationError(
                    f'end of string reached when looking for matching "]" in IPv6 host address '
                    f'in URI: "{_masked_uri(uri)}"'
                )
            if not host:
                raise ClientConfigurationError(
                    f'IPv6 host address may not be empty in URI: "{_masked_uri(uri)}"')
            if after and not after.startswith(":"):
                shown = _masked_uri(uri)
                # The position in the URI as shown, after the masked password.
                position = offset + len(host) + 2 - (len(uri) - len(shown))
                raise ClientConfigurationError(
                    f'unexpected character "{after[0]}" at position {position} in URI '
                    f'(expected ":" or "/"): "{shown}"'
                )
            port = after[1:]
        else:
            host, _, port = item.partition(":")
            host = _percent_decode(host)
        hosts.append(host)
        ports.append(_percent_decode(port))
        offset += len(item) + 1
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
