"""The arguments of ``connect()``, checked once for both APIs.

:func:`prepare_connect` refuses what cannot work (an unknown keyword, a
``record_class`` that is not a Record, a negative cache size) before any
network traffic, combines the DSN, the keywords and the environment into
:class:`~pgwire.conninfo.ConnectParams`, and returns the factory of the
:class:`~pgwire.flows.statements.Session` each connection attempt starts with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..conninfo.keywords import KEYWORDS
from ..conninfo.params import ConnectParams, build_params
from ..conninfo.secret import mask_password
from ..exceptions import InterfaceError
from ..flows.statements import Session
from ..protocol.engine import Engine
from ..types import TypeRegistry, default_registry
from .results import check_record_class

# asyncpg arguments that have no effect in pgwire (its statement cache has
# no lifetime or size limit of that kind; there is no loop argument).
_IGNORED_CONNECT_ARGUMENTS = frozenset(
    {"loop", "max_cached_statement_lifetime", "max_cacheable_statement_size"}
)
# asyncpg arguments build_params() takes by name.
# (and oauth_token, pgwire's own: a bearer token or a function returning one).
_ASYNCPG_CONNECT_ARGUMENTS = frozenset(
    {"passfile", "direct_tls", "target_session_attrs", "oauth_token"}
)


def prepare_connect(
    dsn: str | None,
    *,
    host: Any,
    port: Any,
    user: str | None,
    password: str | None,
    database: str | None,
    timeout: float | None,
    statement_cache_size: int,
    server_settings: dict[str, str] | None,
    ssl: Any,
    record_class: Any,
    connection_class: Any,
    connection_base: type,
    type_registry: TypeRegistry | None,
    unsupported: dict[str, Any],
) -> tuple[ConnectParams, Callable[[], Session]]:
    """Check connect() arguments; return the parameters and a session factory."""
    # Masked at once: this frame's locals show in tracebacks (conninfo.secret).
    password = mask_password(password) if isinstance(password, str) else password
    dsn = mask_password(dsn) if isinstance(dsn, str) else dsn
    keywords = {name: value for name, value in unsupported.items()
                if name not in _IGNORED_CONNECT_ARGUMENTS}
    unknown = sorted(name for name in keywords
                     if name not in KEYWORDS and name not in _ASYNCPG_CONNECT_ARGUMENTS)
    if unknown:
        raise TypeError(
            f"connect() got unexpected keyword arguments: {', '.join(unknown)} "
            "(neither asyncpg arguments nor libpq connection keywords)"
        )
    if record_class is None:
        raise InterfaceError("record_class is expected to be a subclass of pgwire.Record, got None")
    check_record_class(record_class)
    if not isinstance(connection_class, type) or not issubclass(connection_class, connection_base):
        raise InterfaceError(
            f"connection_class is expected to be a subclass of {_public_name(connection_base)}, "
            f"got {connection_class!r}"
        )
    if statement_cache_size < 0:
        raise InterfaceError("statement_cache_size must not be negative")
    params = build_params(dsn, host=host, port=port, user=user, password=password,
                          database=database, ssl=ssl, server_settings=server_settings,
                          timeout=timeout, **keywords)
    registry = (type_registry or default_registry).copy()

    def make_session() -> Session:
        return Session(Engine(), registry, statement_cache_size=statement_cache_size,
                       record_class=record_class, replication=params.replication)

    return params, make_session


def _public_name(cls: type) -> str:
    """``pgwire.Connection`` or ``pgwire.sync.Connection``: where users import it from."""
    return f"pgwire.sync.{cls.__qualname__}" if "._sync." in cls.__module__ else (
        f"pgwire.{cls.__qualname__}"
    )
