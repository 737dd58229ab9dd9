"""Security properties of connecting, against the session's real server, on both APIs.

* **The password stays secret** (given as ``password=``, in a URI, in a
  ``key=value`` string or as ``PGPASSWORD``): it appears in no
  ``repr()``/``str()`` of a connection, a pool or the connection
  parameters; in no exception of a failed connect (wrong password, server
  down, timeout, untrusted or mismatched certificate, missing root
  certificate, refused authentication method, forged SCRAM signature,
  malformed DSN, a pool that cannot log in) nor its
  ``__cause__``/``__context__`` chain, ``args``, notes and attributes; in no
  log record of the ``pgwire`` logger hierarchy at DEBUG; and in no local
  variable of pgwire's frames in such an exception's traceback, nor in the
  attributes of those locals one level deep -- what error trackers such as
  Sentry record, ``connect()``'s and the pool's frames included.
* **TLS verification**: ``sslmode=verify-full`` refuses the test
  certificate when it is reached under a name or address the certificate
  does not carry (``hostaddr``, or the loopback alias 127.0.0.2), with an
  error naming both; ``verify-ca`` accepts it there; a certificate from an
  unknown issuer is refused by ``require``, ``verify-ca`` and ``verify-full``.
* **Mutual authentication**: a proxy that forges the server's SCRAM
  signature (AuthenticationSASLFinal), empties it or drops the message
  makes the connect fail -- the server did not prove it knows the password.
* **require_auth**: a server asking for a method the client forbids is
  refused before any password leaves the client (a proxy sees no
  PasswordMessage); the methods it allows still work through that proxy.
* **Memory before bytes**: a fake server announcing what it never sends (a
  length of 0x7fffff00, a 1 GiB DataRow, a DataRow of 65535 columns, a
  binary array of 10^9 elements) does not make the client allocate for it:
  tracemalloc's peak stays under 16 MB (a control shows a 24 MiB value
  that does arrive is seen above it) and the call ends promptly with a
  protocol, connection, data or (for a stall) timeout error.

Protocol and libpq facts come from the PostgreSQL 16 documentation, cited
by section (chapter 55 "Frontend/Backend Protocol", chapter 34 "libpq").
Timeouts are several seconds: the machine running the suite may be a
loaded 2-core one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import logging
import os
import pickle
import secrets
import socket
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import pytest

import pgwire
import pgwire.sync
from pgwire.conninfo.params import build_params
from pgwire.conninfo.secret import mask_password
from pgwire.protocol.auth import ScramSha256, md5_password
from pgwire.testing import TemporaryCluster, generate_self_signed_cert
from pgwire.testing._client import build_uri, conninfo

PGWIRE_DIR = os.path.dirname(os.path.abspath(pgwire.__file__))
PGWIRE_API_DIR = os.path.join(PGWIRE_DIR, "api")
# A password nobody would type: a match in a text cannot be an accident.
CANARY = "Canary-" + secrets.token_hex(12) + "-pw"
TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)
# How long a refused or broken connect may take at most (a loaded 2-core machine).
BOUND = 8.0

# PostgreSQL docs, 55.2.1 "Start-up", 55.2.10 "SSL Session Encryption", 55.2.11
# "GSSAPI Session Encryption" and 55.2.8 "Canceling Requests in Progress":
# the request codes of the untyped packets a client may open with.
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102


@pytest.fixture(autouse=True)
def _no_connection_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords and TLS settings must come from the test, never from the run's environment."""
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSERVICE", "PGSERVICEFILE",
                 "PGSSLROOTCERT", "PGREQUIREAUTH", "PGCHANNELBINDING"):
        monkeypatch.delenv(name, raising=False)


# ===========================================================================
# Looking for the password


def needles(password: str, user: str) -> dict[str, str]:
    """What must not appear: the password, and the MD5 hash that stands for it
    (``md5(password || user)`` is what an md5 server stores: knowing it is
    enough to log in: PostgreSQL docs, 21.5 "Password Authentication", and
    55.7 "Message Formats", AuthenticationMD5Password)."""
    inner = hashlib.md5((password + user).encode("utf-8")).hexdigest()
    return {"the password": password, "its MD5 hash": inner}


def find_secret(text: str, secrets_: dict[str, str]) -> str | None:
    for what, secret in secrets_.items():
        if secret in text:
            return what
    return None


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception reachable from it: causes, contexts,
    members of exception groups, exceptions kept as attributes or args."""
    seen: dict[int, BaseException] = {}
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen[id(current)] = current
        linked = [current.__cause__, current.__context__,
                  *getattr(current, "exceptions", ()), *current.args,
                  *vars(current).values()]
        todo.extend(e for e in linked if isinstance(e, BaseException))
    return list(seen.values())


def exception_texts(exc: BaseException) -> Iterator[tuple[str, str]]:
    """(where, text) for everything a log line or an error report shows of
    the exceptions of ``exc``'s chain."""
    for number, error in enumerate(exception_chain(exc)):
        name = f"exception #{number} ({type(error).__name__})"
        yield f"str() of {name}", str(error)
        yield f"repr() of {name}", repr(error)
        yield f"args of {name}", repr(error.args)
        yield f"notes of {name}", repr(getattr(error, "__notes__", None))
        yield f"attributes of {name}", safe_repr(vars(error))


def safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a broken repr is not a leak; say what it raised
        return f"<repr raised {type(exc).__name__}>"


def attributes(value: Any) -> Iterator[tuple[str, Any]]:
    """The instance attributes of ``value``: its ``__dict__`` and ``__slots__``."""
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return
    try:
        own = vars(value)
    except TypeError:
        own = {}
    yield from own.items()
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            try:
                yield slot, object.__getattribute__(value, slot)
            except AttributeError:
                continue


def traceback_frames(exc: BaseException) -> Iterator[FrameType]:
    """Every frame in the tracebacks of ``exc``'s chain."""
    for error in exception_chain(exc):
        tb: TracebackType | None = error.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next


def leaks_in_frames(exc: BaseException, secrets_: dict[str, str],
                    wanted: Callable[[str], bool]) -> list[str]:
    """Where the secrets show in the locals of pgwire's frames (those whose
    file ``wanted`` selects), or in the attributes of those locals."""
    found: list[str] = []
    seen: set[int] = set()
    for frame in traceback_frames(exc):
        filename = os.path.abspath(frame.f_code.co_filename)
        if id(frame) in seen or not filename.startswith(PGWIRE_DIR) or not wanted(filename):
            continue
        seen.add(id(frame))
        where = f"{os.path.relpath(filename, PGWIRE_DIR)}:{frame.f_code.co_name}()"
        for name, value in frame.f_locals.items():
            what = find_secret(safe_repr(value), secrets_)
            if what:
                found.append(f"{what} in {where}, local {name!r} ({type(value).__name__})")
                continue
            for attribute, inner in attributes(value):
                what = find_secret(safe_repr(inner), secrets_)
                if what:
                    found.append(f"{what} in {where}, {name}.{attribute} "
                                 f"({type(value).__name__}.{attribute}: {type(inner).__name__})")
    return found


def below_the_api(filename: str) -> bool:
    return not filename.startswith(PGWIRE_API_DIR + os.sep)


def in_the_api(filename: str) -> bool:
    return filename.startswith(PGWIRE_API_DIR + os.sep)


class LogCapture(logging.Handler):
    """Every record of the ``pgwire`` logger hierarchy, at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> Iterator[tuple[str, str]]:
        for record in self.records:
            where = f"log record {record.name}:{record.lineno} {record.msg!r}"
            yield where, record.getMessage()
            yield f"args of {where}", safe_repr(record.args)
            # What a handler writes: the message, and the traceback of
            # exc_info / stack_info when the record carries one.
            yield f"formatted {where}", self._formatter.format(record)


@pytest.fixture
def pgwire_log() -> Iterator[LogCapture]:
    """Capture the ``pgwire`` loggers at DEBUG, whatever their configuration
    (a child's own level, ``propagate`` or ``disabled`` would hide records)."""
    root = logging.getLogger("pgwire")
    loggers = [root] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                        if name.startswith("pgwire.")]
    saved = [(logger, logger.level, logger.propagate, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is not root:
            logger.propagate = True
    capture = LogCapture()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for logger, level, propagate, disabled in saved:
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


def assert_no_secret(texts: Iterator[tuple[str, str]] | list[tuple[str, str]],
                     secrets_: dict[str, str]) -> None:
    leaks = [f"{what} in {where}: {text[:300]!r}" for where, text in texts
             if (what := find_secret(text, secrets_))]
    assert not leaks, "\n".join(leaks)


# ===========================================================================
# Ways of giving the password


# Keyword arguments, a URI, a key=value string (PostgreSQL docs, 34.1.1
# "Connection Strings"), and the PGPASSWORD environment variable (34.15
# "Environment Variables").
FORMS = ["keyword", "uri", "key=value", "PGPASSWORD"]
EXPLICIT_FORMS = FORMS[:3]


def connect_arguments(form: str, keywords: dict[str, Any],
                      monkeypatch: pytest.MonkeyPatch | None = None
                      ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """(args, kwargs) of a connect call for libpq ``keywords`` (host, port,
    user, dbname, password, sslmode...), the password given in ``form``."""
    keywords = dict(keywords)
    if form == "PGPASSWORD":
        assert monkeypatch is not None
        monkeypatch.setenv("PGPASSWORD", keywords.pop("password"))
        form = "keyword"
    if form == "keyword":
        keywords["database"] = keywords.pop("dbname")
        timeout = keywords.pop("connect_timeout", None)
        if timeout is not None:
            keywords["timeout"] = float(timeout)
        return (), keywords
    if form == "uri":
        host, port = keywords.pop("host"), keywords.pop("port")
        user, dbname = keywords.pop("user"), keywords.pop("dbname")
        password = keywords.pop("password")
        uri = build_uri(host, port, user, dbname, password,
                        {k: str(v) for k, v in keywords.items()})
        # The password is in the URI's user information, not the query string.
        assert f":{password}@" in uri
        return (uri,), {}
    assert form == "key=value"
    return (conninfo(**keywords),), {}


def login(cluster: TemporaryCluster, user: str, **extra: Any) -> dict[str, Any]:
    """libpq keywords for ``user`` on the cluster with its own password, no TLS."""
    keywords: dict[str, Any] = {
        "host": cluster.host, "port": cluster.port, "user": user,
        "dbname": cluster.database, "password": cluster.passwords[user], "sslmode": "disable",
    }
    keywords.update(extra)
    return keywords


PASSWORD_USERS = ["scram_user", "md5_user", "password_user"]


# ===========================================================================
# 1. The password in reprs, exceptions, logs and tracebacks


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("user", PASSWORD_USERS)
async def test_successful_connect_shows_no_password(
    api: Any, cluster: TemporaryCluster, pgwire_log: LogCapture,
    monkeypatch: pytest.MonkeyPatch, user: str, form: str
) -> None:
    keywords = login(cluster, user)
    secrets_ = needles(keywords["password"], user)
    args, kwargs = connect_arguments(form, keywords, monkeypatch)
    conn = await asyncio.wait_for(api.connect(*args, **kwargs), 30)
    try:
        assert await conn.fetchval("SELECT current_user") == user
        texts = [("repr() of the connection", repr(conn)), ("str() of the connection", str(conn)),
                 ("repr() of the blocking connection", repr(api.unwrap(conn)))]
    finally:
        await conn.close()
    texts += [("repr() of the closed connection", repr(conn)),
              ("str() of the closed connection", str(conn))]
    assert_no_secret(texts, secrets_)
    # The capture works: the connect flow logs its progress at DEBUG.
    assert any(r.name == "pgwire.connection" for r in pgwire_log.records)
    assert_no_secret(pgwire_log.texts(), secrets_)


@pytest.mark.parametrize("form", FORMS)
async def test_pool_shows_no_password(
    api: Any, cluster: TemporaryCluster, pgwire_log: LogCapture,
    monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    keywords = login(cluster, "scram_user")
    secrets_ = needles(keywords["password"], "scram_user")
    args, kwargs = connect_arguments(form, keywords, monkeypatch)
    pool = await asyncio.wait_for(api.create_pool(*args, min_size=1, max_size=2, **kwargs), 30)
    texts: list[tuple[str, str]] = []
    try:
        texts += [("repr() of the pool", repr(pool)), ("str() of the pool", str(pool))]
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == "scram_user"
            texts += [("repr() of a pooled connection", repr(conn)),
                      ("str() of a pooled connection", str(conn))]
        texts += [("repr() of a released connection", repr(conn))]
    finally:
        await asyncio.wait_for(pool.close(), 30)
    texts += [("repr() of the closed pool", repr(pool)), ("str() of the closed pool", str(pool))]
    assert_no_secret(texts, secrets_)
    assert_no_secret(pgwire_log.texts(), secrets_)


async def _pool_error(api: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseException:
    """The exception of a pool that cannot open its first connection."""
    if api.name == "sync":
        def create() -> BaseException | None:  # in a thread of its own, as _connect_error
            try:
                pgwire.sync.create_pool(*args, min_size=1, max_size=1, **kwargs).close()
            except BaseException as exc:
                return exc
            return None
        exc = await asyncio.wait_for(asyncio.to_thread(create), 30)
    else:
        try:
            pool = await asyncio.wait_for(
                pgwire.create_pool(*args, min_size=1, max_size=1, **kwargs), 30)
            await pool.close()
            exc = None
        except BaseException as error:
            exc = error
    assert isinstance(exc, pgwire.InvalidPasswordError), f"{type(exc).__name__}: {exc}"
    return exc


@pytest.mark.parametrize("form", FORMS)
async def test_pool_that_cannot_log_in_shows_no_password(
    api: Any, cluster: TemporaryCluster, pgwire_log: LogCapture,
    monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """The exception, the log and the frames below the API of a pool whose
    connections are refused."""
    args, kwargs = connect_arguments(form, login(cluster, "scram_user", password=CANARY),
                                     monkeypatch)
    exc = await _pool_error(api, args, kwargs)
    secrets_ = needles(CANARY, "scram_user")
    assert_no_secret(exception_texts(exc), secrets_)
    assert_no_secret(pgwire_log.texts(), secrets_)
    assert any(r.name == "pgwire.pool" for r in pgwire_log.records)
    leaks = leaks_in_frames(exc, secrets_, below_the_api)
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("form", EXPLICIT_FORMS)
async def test_pool_that_cannot_log_in_api_frame_locals_show_no_password(
    api: Any, cluster: TemporaryCluster, form: str
) -> None:
    """The pool's frames (pgwire/api/_async/pool.py and the generated
    _sync/pool.py) keep the connect arguments for every new connection
    (``_connect_kwargs``, ``_new_holder()``'s ``kwargs``, ``create_pool()``'s
    ``connect_kwargs``): masked once, in ``Pool.__init__`` and ``create_pool()``."""
    args, kwargs = connect_arguments(form, login(cluster, "scram_user", password=CANARY))
    exc = await _pool_error(api, args, kwargs)
    leaks = leaks_in_frames(exc, needles(CANARY, "scram_user"), in_the_api)
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("form", FORMS)
def test_connection_parameters_show_no_password(form: str) -> None:
    keywords: dict[str, Any] = {
        "host": "db1.example.org,db2.example.org", "port": 5432, "user": "alice",
        "dbname": "app", "password": CANARY, "sslmode": "disable"}
    environ: dict[str, str] = {}
    if form == "PGPASSWORD":
        environ["PGPASSWORD"] = keywords.pop("password")
        form = "keyword"
    args, kwargs = connect_arguments(form, keywords)
    params = build_params(*args, environ=environ, **kwargs)
    assert params.password == CANARY  # it is there, only never shown
    assert [h.password for h in params.hosts] == [CANARY, CANARY]
    texts = [("repr() of ConnectParams", repr(params)), ("str() of ConnectParams", str(params))]
    for host in params.hosts:
        texts += [(f"repr() of {host.host}", repr(host)), (f"str() of {host.host}", str(host))]
        texts += [(f"repr() of {host.host}.{name}", safe_repr(value))
                  for name, value in attributes(host)]
    # Every field, one by one (what a debugger shows of the object).
    for field in dataclasses.fields(params):
        texts.append((f"repr() of ConnectParams.{field.name}",
                      safe_repr(getattr(params, field.name))))
    texts.append(("repr() of ConnectParams.password", repr(params.password)))
    assert_no_secret(texts, needles(CANARY, "alice"))


def test_a_masked_password_is_still_the_password() -> None:
    """What pgwire keeps the password as (pgwire.conninfo.secret): the same
    text for everything that uses it, a mask for everything that shows it."""
    masked = mask_password(CANARY)
    assert masked == CANARY and hash(masked) == hash(CANARY) and isinstance(masked, str)
    assert str(masked) == CANARY and f"{masked}" == CANARY and "".join([masked]) == CANARY
    assert masked.encode() == CANARY.encode() and masked[:6] == "Canary"
    for shown in (repr(masked), repr([masked]), repr({"password": masked}), ascii(masked)):
        assert CANARY not in shown, shown
    assert mask_password(masked) is masked and mask_password(None) is None
    assert pickle.loads(pickle.dumps(masked)) == CANARY
    # The exchanges compute with it as with the text itself ...
    assert md5_password("u", masked, b"salt") == md5_password("u", CANARY, b"salt")
    server_first = b"r=abcdef,s=" + base64.b64encode(b"salt") + b",i=4096"
    scram = ScramSha256(masked, nonce="abc")
    assert scram.client_final(server_first) == \
        ScramSha256(CANARY, nonce="abc").client_final(server_first)
    # ... and SCRAM forgets it once its proof is made.
    assert not [name for name, value in attributes(scram)
                if find_secret(safe_repr(value), needles(CANARY, "u"))]
    assert b"Canary" not in b"".join(v for _, v in attributes(scram) if isinstance(v, bytes))


def accept_until_closed(listener: socket.socket,
                        take: Callable[[socket.socket], object]) -> None:
    """Hand each accepted client to ``take`` until ``listener`` is closed
    (the loop of the loopback servers below, each in a thread of its own)."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        take(client)


class SilentServer:
    """A loopback server that accepts connections and never says a word."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        self.port: int = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True,
                                       name="test-security-silent")
        self.thread.start()

    def _serve(self) -> None:
        accept_until_closed(self.sock, self.clients.append)

    def close(self) -> None:
        self.sock.close()
        for client in self.clients:
            client.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def other_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate that did not issue the server's: an untrusted root."""
    directory = tmp_path_factory.mktemp("other-root")
    cert, key = directory / "root.crt", directory / "root.key"
    if generate_self_signed_cert(cert, key) is None:
        pytest.skip("neither openssl nor the cryptography package can make a certificate")
    return cert


Expected = tuple[type[BaseException], ...]
# A failure: given the cluster, an ExitStack for the servers and proxies it
# needs and an untrusted root certificate, the libpq keywords of a connect
# that fails, and the exception classes it must fail with.
Failure = Callable[[TemporaryCluster, contextlib.ExitStack, Path],
                   tuple[dict[str, Any], Expected]]


def _wrong_password(user: str) -> Failure:
    def failure(cluster: TemporaryCluster, stack: contextlib.ExitStack, root: Path
                ) -> tuple[dict[str, Any], Expected]:
        return login(cluster, user, password=CANARY), (pgwire.InvalidPasswordError,)
    return failure


def _server_down(cluster: TemporaryCluster, stack: contextlib.ExitStack, root: Path
                 ) -> tuple[dict[str, Any], Expected]:
    return login(cluster, "scram_user", password=CANARY, port=closed_port()), (OSError,)


def _timeout(cluster: TemporaryCluster, stack: contextlib.ExitStack, root: Path
             ) -> tuple[dict[str, Any], Expected]:
    silent = SilentServer()
    stack.callback(silent.close)
    return (login(cluster, "scram_user", password=CANARY, port=silent.port, connect_timeout=1),
            TIMEOUT_ERRORS)


def _untrusted_certificate(cluster: TemporaryCluster, stack: contextlib.ExitStack, root: Path
                           ) -> tuple[dict[str, Any], Expected]:
    return (login(cluster, "scram_user", password=CANARY, sslmode="verify-ca",
                  sslrootcert=os.fspath(root)), (OSError, pgwire.InterfaceError))


def _certificate_for_another_host(cluster: TemporaryCluster, stack: contextlib.ExitStack,
                                  root: Path) -> tuple[dict[str, Any], Expected]:
    assert cluster.ssl_cert_file is not None
    return (login(cluster, "scram_user", password=CANARY, sslmode="verify-full",
                  host="db.not-this-server.example", hostaddr=cluster.host,
                  sslrootcert=os.fspath(cluster.ssl_cert_file)), (pgwire.InterfaceError,))


def _missing_root_certificate(cluster: TemporaryCluster, stack: contextlib.ExitStack,
                              root: Path) -> tuple[dict[str, Any], Expected]:
    # Refused while the parameters are checked, before any I/O.
    return (login(cluster, "scram_user", password=CANARY, sslmode="verify-full",
                  sslrootcert=os.fspath(root.parent / "no-such-root.crt")),
            (pgwire.ClientConfigurationError,))


def _cleartext_refused(cluster: TemporaryCluster, stack: contextlib.ExitStack, root: Path
                       ) -> tuple[dict[str, Any], Expected]:
    return (login(cluster, "password_user", password=CANARY, require_auth="scram-sha-256"),
            (pgwire.InterfaceError,))


def _forged_scram_signature(cluster: TemporaryCluster, stack: contextlib.ExitStack, root: Path
                            ) -> tuple[dict[str, Any], Expected]:
    # The right password: only then does the server send its signature.
    proxy = stack.enter_context(InspectingProxy(cluster.host, cluster.port,
                                                to_client=forge_server_signature))
    return login(cluster, "scram_user", port=proxy.port), (pgwire.InterfaceError,)


FAILURES: dict[str, Failure] = {
    "wrong scram password": _wrong_password("scram_user"),
    "wrong md5 password": _wrong_password("md5_user"),
    "wrong cleartext password": _wrong_password("password_user"),
    "server down": _server_down,
    "timeout": _timeout,
    "untrusted certificate": _untrusted_certificate,
    "certificate for another host": _certificate_for_another_host,
    "missing root certificate": _missing_root_certificate,
    "require_auth refuses cleartext": _cleartext_refused,
    "forged scram signature": _forged_scram_signature,
}


def _connect_sync_error(args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseException | None:
    try:
        pgwire.connect_sync(*args, **kwargs).close()
    except BaseException as exc:
        return exc
    return None


async def _connect_error(api: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                         ) -> BaseException | None:
    """The exception of a connect call, as the API raised it (None: it connected)."""
    if api.name == "sync":
        # Not through conftest's adapter: asyncio turns a TimeoutError from
        # a worker thread into a new one, without the traceback to check.
        return await asyncio.wait_for(asyncio.to_thread(_connect_sync_error, args, kwargs), 30)
    try:
        await (await asyncio.wait_for(api.connect(*args, **kwargs), 30)).close()
    except BaseException as exc:
        return exc
    return None


async def failed_connect(api: Any, cluster: TemporaryCluster, root: Path, failure: str,
                         form: str, monkeypatch: pytest.MonkeyPatch
                         ) -> tuple[BaseException, dict[str, str]]:
    """Run the failing connect; its exception and the secrets to look for."""
    with contextlib.ExitStack() as stack:
        keywords, expected = FAILURES[failure](cluster, stack, root)
        secrets_ = needles(keywords["password"], keywords["user"])
        args, kwargs = connect_arguments(form, keywords, monkeypatch)
        started = time.monotonic()
        exc = await _connect_error(api, args, kwargs)
        elapsed = time.monotonic() - started
    assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
    assert elapsed < BOUND, f"the failure took {elapsed:.1f} s"
    return exc, secrets_


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("failure", FAILURES)
async def test_failed_connect_shows_no_password(
    api: Any, cluster: TemporaryCluster, other_root: Path, pgwire_log: LogCapture,
    monkeypatch: pytest.MonkeyPatch, failure: str, form: str
) -> None:
    exc, secrets_ = await failed_connect(api, cluster, other_root, failure, form, monkeypatch)
    assert_no_secret(exception_texts(exc), secrets_)
    assert_no_secret(pgwire_log.texts(), secrets_)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("failure", FAILURES)
async def test_failed_connect_traceback_locals_show_no_password(
    api: Any, cluster: TemporaryCluster, other_root: Path, monkeypatch: pytest.MonkeyPatch,
    failure: str, form: str
) -> None:
    """pgwire's frames below the API layer (conninfo, flows, drivers, protocol)."""
    exc, secrets_ = await failed_connect(api, cluster, other_root, failure, form, monkeypatch)
    frames = [f for f in traceback_frames(exc)
              if os.path.abspath(f.f_code.co_filename).startswith(PGWIRE_DIR)]
    assert frames, "the traceback holds no frame of pgwire: nothing was checked"
    leaks = leaks_in_frames(exc, secrets_, below_the_api)
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("form", EXPLICIT_FORMS)
@pytest.mark.parametrize("failure", ["wrong scram password", "timeout",
                                     "missing root certificate"])
async def test_failed_connect_api_frame_locals_show_no_password(
    api: Any, cluster: TemporaryCluster, other_root: Path, monkeypatch: pytest.MonkeyPatch,
    failure: str, form: str
) -> None:
    """pgwire's frames in the API layer: ``connect()`` (both APIs) and
    ``prepare_connect()`` rebind their ``password`` and ``dsn`` arguments to
    masked values first, so no frame from there down holds them in clear."""
    exc, secrets_ = await failed_connect(api, cluster, other_root, failure, form, monkeypatch)
    leaks = leaks_in_frames(exc, secrets_, in_the_api)
    assert not leaks, "\n".join(leaks)


MALFORMED_DSNS = {
    "unterminated IPv6 address": f"postgresql://alice:{CANARY}@[::1/app",
    "junk after an IPv6 address": f"postgresql://alice:{CANARY}@[::1]x/app",
    "empty IPv6 address": f"postgresql://alice:{CANARY}@[]/app",
    "bad escape in the password": f"postgresql://alice:{CANARY}%zz@db.example.org/app",
    "%00 in the password": f"postgresql://alice:{CANARY}%00@db.example.org/app",
    "bad escape in the database": f"postgresql://alice:{CANARY}@db.example.org/a%zz",
    "unknown query parameter": f"postgresql://alice:{CANARY}@db.example.org/app?nosuch=1",
    "query parameter without =": f"postgresql://alice:{CANARY}@db.example.org/app?sslmode",
    "bad port": f"postgresql://alice:{CANARY}@db.example.org:port/app",
    "unknown keyword": f"password={CANARY} nosuch=1",
    "unterminated quote": f"host=db.example.org password='{CANARY}",
    "bad sslmode": f"host=db.example.org password={CANARY} sslmode=sometimes",
}


# An unquoted password with a space: its second word reads as a keyword
# (libpq's messages quote that word).
FIRST_WORD, SECOND_WORD = CANARY[:14], CANARY[14:]
MALFORMED_DSNS.update({
    "unquoted space in the password": f"host=db.example.org password={FIRST_WORD} {SECOND_WORD}",
    "unquoted space and = in the password":
        f"host=db.example.org password={FIRST_WORD} {SECOND_WORD}=x",
})


@pytest.mark.parametrize("dsn", MALFORMED_DSNS.values(), ids=MALFORMED_DSNS)
async def test_malformed_dsn_shows_no_password(api: Any, dsn: str) -> None:
    """A DSN refused before any I/O: neither the message (libpq's quote the
    URI, or the word after an unquoted password) nor the frames below the
    API show the password."""
    exc = await _connect_error(api, (dsn,), {})
    assert isinstance(exc, pgwire.InterfaceError), f"{type(exc).__name__}: {exc}"
    secrets_ = needles(CANARY, "alice")
    if SECOND_WORD in dsn and CANARY not in dsn:
        secrets_ = {"the password's second word": SECOND_WORD}
    assert_no_secret(exception_texts(exc), secrets_)
    leaks = leaks_in_frames(exc, secrets_, below_the_api)
    assert not leaks, "\n".join(leaks)


# ===========================================================================
# Proxies and fake servers


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def message(kind: bytes, body: bytes) -> bytes:
    """A backend or frontend message (PostgreSQL docs, 55.7 "Message Formats")."""
    return kind + struct.pack("!i", len(body) + 4) + body


# A hook for the messages of one direction: (type byte, body) -> replacement
# (type, body), or None to drop the message.
Hook = Callable[[bytes, bytes], "tuple[bytes, bytes] | None"]


class InspectingProxy:
    """A loopback proxy in front of ``host:port`` that reads the protocol
    as pgwire.testing.FaultProxy does, to record what the client sends and
    to let ``to_client`` rewrite or drop the server's messages (FaultProxy
    only cuts and stalls, and shows nothing of what passed).

    It listens on ``bind`` (a loopback alias such as 127.0.0.2 works on
    Linux).  After an SSLRequest answered ``S`` the bytes are TLS and only
    forwarded.  ``sent`` lists the type bytes of the client's messages
    after its startup packet; ``client_bytes`` is everything the client
    sent; ``hooked`` counts the messages ``to_client`` changed;
    ``client_done`` is set when a client has closed its connection (all
    it sent has been read).
    """

    def __init__(self, host: str, port: int, *, bind: str = "127.0.0.1",
                 to_client: Hook | None = None) -> None:
        self.target = (host, port)
        self.to_client = to_client
        self.sent: list[bytes] = []
        self.client_bytes = bytearray()
        self.hooked = 0
        self.tls = False
        self.client_done = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.listener = socket.create_server((bind, 0))
        self.host = bind
        self.port: int = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="test-security-proxy")
        self._thread.start()

    def __enter__(self) -> InspectingProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def _serve(self) -> None:
        accept_until_closed(self.listener, lambda client: threading.Thread(
            target=self._handle, args=(client,), daemon=True,
            name="test-security-proxy-link").start())

    def _handle(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets += [client, server]
        try:
            for sock in (client, server):
                sock.settimeout(None)
            opaque = self._negotiate(client, server)
        except (OSError, EOFError):
            client.close()
            server.close()
            return
        up = threading.Thread(target=self._pump, args=(client, server, "up", opaque),
                              daemon=True)
        up.start()
        self._pump(server, client, "down", opaque)
        up.join(30)

    def _record(self, data: bytes) -> None:
        with self._lock:
            self.client_bytes += data

    def _negotiate(self, client: socket.socket, server: socket.socket) -> bool:
        """Forward the client's untyped packets (PostgreSQL docs, 55.2.1
        "Start-up", 55.2.10 "SSL Session Encryption"); True when the rest is TLS."""
        while True:
            head = _recv_exact(client, 4)
            if head[0] == 0x16:  # a TLS ClientHello: direct SSL (PostgreSQL 17, same section)
                self._record(head)
                server.sendall(head)
                self.tls = True
                return True
            (length,) = struct.unpack("!i", head)
            packet = head + _recv_exact(client, length - 4)
            self._record(packet)
            server.sendall(packet)
            code = struct.unpack("!i", packet[4:8])[0]
            if code not in (SSL_REQUEST, GSSENC_REQUEST):
                return False  # the StartupMessage (or a CancelRequest)
            answer = _recv_exact(server, 1)
            client.sendall(answer)
            if answer in (b"S", b"G"):
                self.tls = True
                return True

    def _pump(self, src: socket.socket, dst: socket.socket, name: str, opaque: bool) -> None:
        try:
            while True:
                if opaque:
                    data = src.recv(65536)
                    if not data:
                        break
                    if name == "up":
                        self._record(data)
                    dst.sendall(data)
                    continue
                head = _recv_exact(src, 5)
                kind = head[:1]
                (length,) = struct.unpack("!i", head[1:])
                body = _recv_exact(src, length - 4)
                if name == "up":
                    self._record(head + body)
                    with self._lock:
                        self.sent.append(kind)
                elif self.to_client is not None:
                    changed = self.to_client(kind, body)
                    if changed != (kind, body):
                        self.hooked += 1
                    if changed is None:
                        continue
                    kind, body = changed
                dst.sendall(message(kind, body))
        except (OSError, EOFError):
            pass
        finally:
            if name == "up":
                self.client_done.set()
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


# PostgreSQL docs, 55.7 "Message Formats": Authentication ('R') with an
# Int32 code; 12 is AuthenticationSASLFinal, whose data is the SCRAM
# server-final-message "v=<base64 ServerSignature>" (55.3.1, RFC 5802).
AUTHENTICATION = b"R"
SASL_FINAL = 12


def _sasl_final_data(kind: bytes, body: bytes) -> bytes | None:
    if kind != AUTHENTICATION or len(body) < 4 or struct.unpack("!i", body[:4])[0] != SASL_FINAL:
        return None
    return body[4:]


def forge_server_signature(kind: bytes, body: bytes) -> tuple[bytes, bytes] | None:
    """A ServerSignature of the right length with one bit flipped."""
    data = _sasl_final_data(kind, body)
    if data is None:
        return kind, body
    assert data.startswith(b"v="), data
    signature = bytearray(base64.b64decode(data[2:]))
    signature[0] ^= 0x01
    return kind, body[:4] + b"v=" + base64.b64encode(bytes(signature))


def drop_server_final(kind: bytes, body: bytes) -> tuple[bytes, bytes] | None:
    """No AuthenticationSASLFinal at all: AuthenticationOk follows the client's proof."""
    return None if _sasl_final_data(kind, body) is not None else (kind, body)


def empty_server_final(kind: bytes, body: bytes) -> tuple[bytes, bytes] | None:
    """An AuthenticationSASLFinal without the signature attribute."""
    if _sasl_final_data(kind, body) is None:
        return kind, body
    return kind, body[:4] + b"v="


# ===========================================================================
# 2. TLS: verify-full checks the name, verify-ca only the issuer


def certificate_names(path: Path) -> tuple[set[str], set[str]]:
    """The DNS names and IP addresses in the certificate's subjectAltName."""
    x509 = pytest.importorskip("cryptography.x509")
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (set(names.get_values_for_type(x509.DNSName)),
            {str(a) for a in names.get_values_for_type(x509.IPAddress)})


OTHER_NAME = "db.not-this-server.example"
OTHER_ADDRESS = "127.0.0.2"


@pytest.fixture
def server_cert(cluster: TemporaryCluster) -> Path:
    """The server's certificate, checked not to carry the names the tests reach it by."""
    if not cluster.ssl_enabled or cluster.ssl_cert_file is None:
        pytest.skip("the test server has no TLS certificate")
    dns, addresses = certificate_names(cluster.ssl_cert_file)
    assert dns == {"localhost"} and addresses == {"127.0.0.1"}, (dns, addresses)
    assert OTHER_NAME not in dns and OTHER_ADDRESS not in addresses
    return cluster.ssl_cert_file


@pytest.fixture
def alias_proxy(cluster: TemporaryCluster) -> Iterator[InspectingProxy]:
    """A plain forwarder on the loopback alias 127.0.0.2 (the server listens on 127.0.0.1 only)."""
    try:
        proxy = InspectingProxy(cluster.host, cluster.port, bind=OTHER_ADDRESS)
    except OSError as exc:
        pytest.skip(f"the loopback alias {OTHER_ADDRESS} is not usable here: {exc}")
    with proxy:
        yield proxy


SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


async def _connects_with_tls(api: Any, **kwargs: Any) -> None:
    conn = await asyncio.wait_for(api.connect(**kwargs), 30)
    try:
        assert await conn.fetchval(SSL_QUERY) is True
    finally:
        await conn.close()


async def _refused(api: Any, expected: tuple[type[BaseException], ...], **kwargs: Any
                   ) -> BaseException:
    started = time.monotonic()
    with pytest.raises(expected) as caught:
        await asyncio.wait_for(api.connect(**kwargs), 30)
    assert time.monotonic() - started < BOUND
    return caught.value


async def test_verify_full_refuses_a_certificate_for_another_host_name(
    api: Any, cluster: TemporaryCluster, server_cert: Path
) -> None:
    # hostaddr: connect to 127.0.0.1 but check the certificate against the
    # host name (PostgreSQL docs, 34.1.2 "Parameter Key Words", hostaddr;
    # 34.19.1 "Client Verification of Server Certificates").
    kwargs = {**cluster.connect_kwargs(user="scram_user"), "host": OTHER_NAME,
              "hostaddr": cluster.host, "sslrootcert": os.fspath(server_cert)}
    exc = await _refused(api, (pgwire.InterfaceError,), sslmode="verify-full", **kwargs)
    text = str(exc)
    assert "does not match host name" in text and f'"{OTHER_NAME}"' in text, text
    assert '"localhost"' in text, text  # what the certificate is for
    # verify-ca checks the issuer only: the same server is accepted ...
    await _connects_with_tls(api, sslmode="verify-ca", **kwargs)
    # ... and verify-full accepts the name the certificate does carry.
    await _connects_with_tls(api, sslmode="verify-full",
                             **{**kwargs, "host": "localhost"})


async def test_verify_full_refuses_an_address_the_certificate_lacks(
    api: Any, cluster: TemporaryCluster, server_cert: Path, alias_proxy: InspectingProxy
) -> None:
    kwargs = {**cluster.connect_kwargs(user="scram_user"), "host": alias_proxy.host,
              "port": alias_proxy.port, "sslrootcert": os.fspath(server_cert)}
    exc = await _refused(api, (pgwire.InterfaceError,), sslmode="verify-full", **kwargs)
    text = str(exc)
    assert "does not match host name" in text and f'"{OTHER_ADDRESS}"' in text, text
    assert alias_proxy.tls  # refused after a real TLS handshake, not before it
    await _connects_with_tls(api, sslmode="verify-ca", **kwargs)
    # The forwarder is not what verify-full objects to: on 127.0.0.1 it passes.
    with InspectingProxy(cluster.host, cluster.port) as proxy:
        await _connects_with_tls(api, sslmode="verify-full",
                                 **{**kwargs, "host": proxy.host, "port": proxy.port})


@pytest.mark.parametrize("sslmode", ["require", "verify-ca", "verify-full"])
async def test_a_certificate_from_an_unknown_issuer_is_refused(
    api: Any, cluster: TemporaryCluster, server_cert: Path, other_root: Path, sslmode: str
) -> None:
    # With a root certificate file, require verifies the chain too (34.19.1).
    exc = await _refused(api, (OSError, pgwire.InterfaceError), sslmode=sslmode,
                         sslrootcert=os.fspath(other_root),
                         **cluster.connect_kwargs(user="scram_user"))
    assert "certificate verify failed" in str(exc), str(exc)


# ===========================================================================
# 3. The server must prove it knows the password (SCRAM)


@pytest.mark.parametrize("tamper", [forge_server_signature, empty_server_final,
                                    drop_server_final],
                         ids=["forged signature", "empty signature", "no SASLFinal"])
async def test_a_server_that_cannot_prove_it_knows_the_password_is_refused(
    api: Any, cluster: TemporaryCluster, tamper: Hook
) -> None:
    # PostgreSQL docs, 55.3.1 "SCRAM-SHA-256 Authentication": the client
    # checks the ServerSignature of the server-final-message; a server (or
    # a man in the middle) without the password's ServerKey cannot make it.
    with InspectingProxy(cluster.host, cluster.port, to_client=tamper) as proxy:
        kwargs = {**cluster.connect_kwargs(user="scram_user"), "host": proxy.host,
                  "port": proxy.port, "ssl": "disable"}
        exc = await _refused(api, (pgwire.InterfaceError,), **kwargs)
        assert proxy.hooked == 1  # the tampering happened, once
    text = str(exc)
    assert "server signature" in text.lower(), text
    if tamper is not drop_server_final:
        assert "did not prove it knows the password" in text, text


async def test_the_inspecting_proxy_is_transparent(api: Any, cluster: TemporaryCluster) -> None:
    """The control of the SCRAM and require_auth tests: untouched, the proxy works."""
    with InspectingProxy(cluster.host, cluster.port,
                         to_client=lambda kind, body: (kind, body)) as proxy:
        for user in PASSWORD_USERS:
            conn = await asyncio.wait_for(api.connect(
                **{**cluster.connect_kwargs(user=user), "host": proxy.host,
                   "port": proxy.port, "ssl": "disable"}), 30)
            try:
                assert await conn.fetchval("SELECT current_user") == user
            finally:
                await conn.close()
        assert proxy.hooked == 0
        # It sees the client's authentication messages (55.7: 'p').
        assert proxy.sent.count(b"p") >= 4  # cleartext, md5, two for SCRAM


# ===========================================================================
# 4. require_auth refuses before the password leaves


REFUSALS = [
    ("password_user", "scram-sha-256", "cleartext password"),
    ("password_user", "!password", "cleartext password"),
    ("password_user", "md5,none", "cleartext password"),
    ("md5_user", "scram-sha-256", "hashed password"),
    ("md5_user", "!md5", "hashed password"),
    ("scram_user", "password,md5", "SASL authentication"),
    ("scram_user", "none", "SASL authentication"),
]


@pytest.mark.parametrize(("user", "require_auth", "request_text"), REFUSALS)
async def test_require_auth_refuses_before_sending_the_password(
    api: Any, cluster: TemporaryCluster, user: str, require_auth: str, request_text: str
) -> None:
    password = cluster.passwords[user]
    assert password is not None
    with InspectingProxy(cluster.host, cluster.port) as proxy:
        kwargs = {**cluster.connect_kwargs(user=user), "host": proxy.host,
                  "port": proxy.port, "ssl": "disable", "require_auth": require_auth}
        exc = await _refused(api, (pgwire.InterfaceError,), **kwargs)
        # The client closed its connection: the proxy has read all it sent.
        assert await asyncio.to_thread(proxy.client_done.wait, 10)
        sent, client_bytes = list(proxy.sent), bytes(proxy.client_bytes)
    text = str(exc)
    assert f'authentication method requirement "{require_auth}" failed' in text, text
    assert request_text in text, text
    # PasswordMessage, SASLInitialResponse and SASLResponse are all 'p'
    # (55.7 "Message Formats"): no answer to the request at all.
    assert b"p" not in sent, sent
    for what, secret in needles(password, user).items():
        assert secret.encode() not in client_bytes, f"{what} was sent"
    assert client_bytes, "the proxy saw nothing: the test checked nothing"


@pytest.mark.parametrize(("user", "require_auth"), [
    ("password_user", "password"), ("md5_user", "md5"), ("md5_user", "!password"),
    ("scram_user", "scram-sha-256"), ("password_user", "password,scram-sha-256"),
])
async def test_require_auth_allows_what_it_names(
    api: Any, cluster: TemporaryCluster, user: str, require_auth: str
) -> None:
    """The control: an allowed method authenticates, and the proxy sees the answer."""
    with InspectingProxy(cluster.host, cluster.port) as proxy:
        conn = await asyncio.wait_for(api.connect(
            **{**cluster.connect_kwargs(user=user), "host": proxy.host, "port": proxy.port,
               "ssl": "disable", "require_auth": require_auth}), 30)
        try:
            assert await conn.fetchval("SELECT current_user") == user
        finally:
            await conn.close()
        assert b"p" in proxy.sent


# ===========================================================================
# 5. No allocation for bytes that have not arrived


def _cstring(text: str) -> bytes:
    return text.encode() + b"\x00"


# PostgreSQL docs, 55.2.1 "Start-up": AuthenticationOk, ParameterStatus,
# BackendKeyData, ReadyForQuery -- the same reply as test_hostile_server's.
STARTUP_REPLY = (
    message(b"R", struct.pack("!i", 0))
    + message(b"S", _cstring("server_version") + _cstring("15.0"))
    + message(b"S", _cstring("client_encoding") + _cstring("UTF8"))
    + message(b"S", _cstring("integer_datetimes") + _cstring("on"))
    + message(b"K", struct.pack("!ii", 4242, 99))
    + message(b"Z", b"I")
)
INT4, INT4_ARRAY = 23, 1007


def row_description(columns: list[tuple[str, int, int]], fmt: int) -> bytes:
    """RowDescription (55.7) of ``(name, type OID, typlen)`` columns in format ``fmt``."""
    body = struct.pack("!h", len(columns))
    for name, oid, typlen in columns:
        body += _cstring(name) + struct.pack("!IhIhih", 0, 0, oid, typlen, -1, fmt)
    return message(b"T", body)


def data_row(*values: bytes | None) -> bytes:
    body = struct.pack("!h", len(values))
    for value in values:
        body += struct.pack("!i", -1) if value is None else struct.pack("!i", len(value)) + value
    return message(b"D", body)


class FakeServer:
    """A loopback fake PostgreSQL that completes the startup handshake (as
    tests/test_hostile_server.py's HostileServer does), answers the extended
    protocol for one result of ``columns``, and sends ``poison`` in place of
    one answer: the startup reply (``at="startup"``), the RowDescription of
    the first Describe (``"describe"``) or the rows of the first Execute
    (``"execute"``).  Then it goes on (``after="continue"``: CommandComplete
    and ReadyForQuery follow), says nothing more while holding the
    connection open (``"stall"``), or closes it (``"close"``).

    ``bind_formats`` records the result-format codes of each Bind (55.7),
    so a test can check which decoder the client used.
    """

    def __init__(self, poison: bytes, at: str, after: str,
                 columns: list[tuple[str, int, int]] | None = None) -> None:
        self.poison = poison
        self.at = at
        self.after = after
        self.columns = columns or [("a", INT4, 4)]
        self.bind_formats: list[list[int]] = []
        self.poisoned = threading.Event()
        self._open: list[socket.socket] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True, name="test-security-fake").start()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()
        for client in self._open:
            with contextlib.suppress(OSError):
                client.close()

    def _serve(self) -> None:
        def take(client: socket.socket) -> None:
            self._open.append(client)
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

        accept_until_closed(self.sock, take)

    def _poison(self, client: socket.socket) -> bool:
        """Send the poison; False when nothing more is to be said."""
        self.poisoned.set()  # first: the client may fail before sendall() returns
        client.sendall(self.poison)
        if self.after == "close":
            client.shutdown(socket.SHUT_RDWR)
            return False
        if self.after == "stall":
            while client.recv(65536):  # hold the connection, answer nothing
                pass
            return False
        return True

    def _handle(self, client: socket.socket) -> None:
        try:
            with client:
                client.settimeout(60)
                while True:  # SSLRequest / GSSENCRequest first, maybe (55.2.10)
                    (length,) = struct.unpack("!i", _recv_exact(client, 4))
                    body = _recv_exact(client, length - 4)
                    code = struct.unpack("!i", body[:4])[0]
                    if code == CANCEL_REQUEST:  # a cancel of a stalled call: nothing to do
                        return
                    if code in (SSL_REQUEST, GSSENC_REQUEST):
                        client.sendall(b"N")
                        continue
                    break
                if self.at == "startup":
                    if not self._poison(client):
                        return
                else:
                    client.sendall(STARTUP_REPLY)
                self._converse(client)
        except (OSError, EOFError):
            pass

    def _converse(self, client: socket.socket) -> None:
        formats = [0]
        while True:
            kind = _recv_exact(client, 1)
            (length,) = struct.unpack("!i", _recv_exact(client, 4))
            body = _recv_exact(client, length - 4)
            if kind == b"X":
                return
            if kind == b"P":
                client.sendall(message(b"1", b""))
            elif kind == b"B":
                formats = self._result_formats(body)
                self.bind_formats.append(formats)
                client.sendall(message(b"2", b""))
            elif kind == b"D":
                fmt = 0 if body[:1] == b"S" else formats[0] if formats else 0
                if body[:1] == b"S":
                    client.sendall(message(b"t", struct.pack("!h", 0)))
                if self.at == "describe" and not self.poisoned.is_set():
                    if not self._poison(client):
                        return
                else:
                    client.sendall(row_description(self.columns, fmt))
            elif kind == b"E":
                if self.at == "execute" and not self.poisoned.is_set():
                    if not self._poison(client):
                        return
                else:
                    binary = bool(formats) and formats[0] == 1
                    client.sendall(data_row(*(struct.pack("!i", 1) if binary else b"1"
                                              for _ in self.columns)))
                client.sendall(message(b"C", _cstring("SELECT 1")))
            elif kind == b"S":
                client.sendall(message(b"Z", b"I"))
            elif kind == b"C":
                client.sendall(message(b"3", b""))
            elif kind == b"Q":
                client.sendall(row_description(self.columns, 0)
                               + data_row(*(b"1" for _ in self.columns))
                               + message(b"C", _cstring("SELECT 1")) + message(b"Z", b"I"))

    @staticmethod
    def _result_formats(body: bytes) -> list[int]:
        """The result-column format codes at the end of a Bind body (55.7)."""
        pos = body.index(b"\x00") + 1  # portal
        pos = body.index(b"\x00", pos) + 1  # statement
        (count,) = struct.unpack_from("!h", body, pos)
        pos += 2 + 2 * count
        (count,) = struct.unpack_from("!h", body, pos)
        pos += 2
        for _ in range(count):
            (size,) = struct.unpack_from("!i", body, pos)
            pos += 4 + max(size, 0)
        (count,) = struct.unpack_from("!h", body, pos)
        return list(struct.unpack_from(f"!{count}h", body, pos + 2))


def binary_int4_array(dims: list[int], elements: int) -> bytes:
    """An int4[] in the binary array format (ndim, has-null flag, element
    OID, then size and lower bound per dimension, then the elements, as
    array_send writes it), holding ``elements`` elements whatever ``dims`` claim."""
    head = struct.pack("!iiI", len(dims), 0, INT4)
    head += b"".join(struct.pack("!ii", size, 1) for size in dims)
    return head + b"".join(struct.pack("!ii", 4, i) for i in range(elements))


MEMORY_LIMIT = 16 << 20
PROTOCOL_OR_CONNECTION = (pgwire.ProtocolError, pgwire.PostgresConnectionError,
                          pgwire.InterfaceError)
LENGTH_0x7FFFFF00 = struct.pack("!i", 0x7FFFFF00)
ONE_GIB = struct.pack("!i", 1 << 30)


@dataclasses.dataclass(frozen=True)
class Hostile:
    """A poison, where it goes, what follows it, what the client must end with."""

    poison: bytes
    at: str
    after: str
    expected: tuple[type[BaseException], ...]
    columns: list[tuple[str, int, int]] | None = None
    prepared: bool = False  # run the query as a prepared statement (binary results)


HOSTILE: dict[str, Hostile] = {
    # 55.7: every message after the startup packet is a type byte and an
    # Int32 length that counts itself; here one that says "2 GiB coming".
    "startup message of length 0x7fffff00, then a stall": Hostile(
        b"R" + LENGTH_0x7FFFFF00 + b"\x00" * 1000, "startup", "stall", PROTOCOL_OR_CONNECTION),
    "DataRow of length 0x7fffff00, then a stall": Hostile(
        b"D" + LENGTH_0x7FFFFF00 + b"\x00\x01" + b"\x00" * 1000, "execute", "stall",
        PROTOCOL_OR_CONNECTION),
    "DataRow of length 0x7fffff00, then close": Hostile(
        b"D" + LENGTH_0x7FFFFF00 + b"\x00\x01" + b"\x00" * 1000, "execute", "close",
        PROTOCOL_OR_CONNECTION),
    # A length the client accepts (a field may be 1 GiB): it must wait for
    # the bytes, not reserve room for them.
    "DataRow of 1 GiB, 64 KiB sent, then a stall": Hostile(
        b"D" + ONE_GIB + b"\x00\x01" + b"\x00" * 65536, "execute", "stall", TIMEOUT_ERRORS),
    "DataRow of 1 GiB, 64 KiB sent, then close": Hostile(
        b"D" + ONE_GIB + b"\x00\x01" + b"\x00" * 65536, "execute", "close",
        PROTOCOL_OR_CONNECTION),
    # DataRow: Int16 column count, then the columns (55.7).
    "DataRow claiming 65535 columns, no data": Hostile(
        message(b"D", struct.pack("!H", 65535)), "execute", "continue",
        (pgwire.ProtocolError, pgwire.DataError)),
    "DataRow claiming 32767 columns, no data": Hostile(
        message(b"D", struct.pack("!H", 32767)), "execute", "continue",
        (pgwire.ProtocolError, pgwire.DataError)),
    "RowDescription claiming 32767 columns, no data": Hostile(
        message(b"T", struct.pack("!H", 32767)), "describe", "continue",
        (pgwire.ProtocolError, pgwire.DataError)),
    "binary int4[] claiming 10^9 elements, 2 sent": Hostile(
        data_row(binary_int4_array([10**9], 2)), "execute", "continue",
        (pgwire.DataError, pgwire.ProtocolError), [("a", INT4_ARRAY, -1)], prepared=True),
    "binary int4[] claiming 1000x1000x1000 elements, 2 sent": Hostile(
        data_row(binary_int4_array([1000, 1000, 1000], 2)), "execute", "continue",
        (pgwire.DataError, pgwire.ProtocolError), [("a", INT4_ARRAY, -1)], prepared=True),
    "binary int4[] claiming 2^31-1 dimensions": Hostile(
        data_row(struct.pack("!iiI", 0x7FFFFFFF, 0, INT4) + b"\x00" * 64), "execute",
        "continue", (pgwire.DataError, pgwire.ProtocolError), [("a", INT4_ARRAY, -1)],
        prepared=True),
}


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of traced memory above what was allocated on entry (in [0] on exit)."""
    result = [0]
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        yield result
        result[0] = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()


async def _fake_connect(api: Any, server: FakeServer, **kwargs: Any) -> Any:
    return await asyncio.wait_for(api.connect(
        host="127.0.0.1", port=server.port, user="x", database="x", password="x",
        ssl="disable", timeout=10, **kwargs), 30)


async def _call(conn: Any, case: Hostile) -> None:
    if case.prepared:
        statement = await conn.prepare("SELECT a FROM t", timeout=10)
        await statement.fetch(timeout=4)
    else:
        await conn.fetch("SELECT a FROM t", timeout=4)


@pytest.mark.parametrize("name", HOSTILE)
async def test_no_allocation_for_bytes_that_never_arrive(api: Any, name: str) -> None:
    case = HOSTILE[name]
    conn = None
    with FakeServer(case.poison, case.at, case.after, case.columns) as server:
        try:
            if case.at != "startup":
                conn = await _fake_connect(api, server, statement_cache_size=0)
            started = time.monotonic()
            with peak_memory() as peak, pytest.raises(BaseException) as caught:
                if conn is None:
                    await _fake_connect(api, server)
                else:
                    await asyncio.wait_for(_call(conn, case), 30)
            elapsed = time.monotonic() - started
            exc = caught.value
            print(f"\n[{api.name}] {name}: {type(exc).__name__}: {str(exc)[:120]} "
                  f"(peak {peak[0] / 2**20:.2f} MiB, {elapsed:.1f} s)")
            assert server.poisoned.is_set(), "the fake server never sent its poison"
            if case.prepared:
                assert [1] in server.bind_formats, (
                    f"the array was not asked for in binary: {server.bind_formats}")
            assert isinstance(exc, case.expected), f"{type(exc).__name__}: {exc}"
            if TIMEOUT_ERRORS != case.expected:
                assert not isinstance(exc, TIMEOUT_ERRORS), f"it waited for ever: {exc}"
            assert peak[0] < MEMORY_LIMIT, f"peak {peak[0] / 2**20:.1f} MiB while {name}"
            # 4 s of call timeout when the case stalls; the rest is prompt.
            assert elapsed < (4 + BOUND if case.after == "stall" else BOUND), f"{elapsed:.1f} s"
            if conn is not None and not conn.is_closed():
                # Usable or closed (DESIGN.md, "Errors"), never out of step.
                server.columns = [("a", INT4, 4)]
                if case.after == "continue":
                    assert await conn.fetchval("SELECT a FROM t", timeout=10) == 1
                else:
                    # The timed-out call left half a message that will never end.
                    assert case.after == "stall", "a closed stream left the connection open"
                    started = time.monotonic()
                    with pytest.raises(BaseException) as again:
                        await asyncio.wait_for(conn.fetchval("SELECT a FROM t", timeout=4), 30)
                    # It says so, within the next call's own timeout.
                    assert isinstance(again.value, (*TIMEOUT_ERRORS, *PROTOCOL_OR_CONNECTION)), \
                        again.value
                    assert time.monotonic() - started < 4 + BOUND
        finally:
            if conn is not None:
                conn.terminate()


async def test_memory_measurement_sees_a_large_value(api: Any) -> None:
    """The control: a 24 MiB value that does arrive is measured above the limit."""
    value = b"x" * (24 << 20)
    with FakeServer(data_row(value), "execute", "continue",
                    [("a", 25, -1)]) as server:  # text
        conn = await asyncio.wait_for(api.connect(
            host="127.0.0.1", port=server.port, user="x", database="x", password="x",
            ssl="disable", statement_cache_size=0, timeout=10), 30)
        try:
            with peak_memory() as peak:
                rows = await conn.fetch("SELECT a FROM t", timeout=30)
            assert len(rows) == 1
        finally:
            conn.terminate()
    assert peak[0] > MEMORY_LIMIT, f"peak {peak[0] / 2**20:.1f} MiB"
