"""The libpq connection keywords pgwire knows, with their environment variables.

PostgreSQL docs, "Parameter Key Words" (libpq, section 32.1.2) and
"Environment Variables" (section 32.15).  A keyword that is not in
:data:`KEYWORDS` is refused the way libpq refuses it
(``invalid connection option "dbnmae"``).  The table says only where a value
comes from; what a value means is checked in :mod:`pgwire.conninfo.params`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keyword:
    name: str
    #: The ``PG*`` environment variable that supplies a default, if any.
    env: str | None = None
    #: libpq's compiled-in default (``None``: no default).
    default: str | None = None


def _table(*keywords: Keyword) -> dict[str, Keyword]:
    return {keyword.name: keyword for keyword in keywords}


KEYWORDS: dict[str, Keyword] = _table(
    Keyword("service", "PGSERVICE"),
    Keyword("servicefile", "PGSERVICEFILE"),
    Keyword("user", "PGUSER"),
    Keyword("password", "PGPASSWORD"),
    Keyword("passfile", "PGPASSFILE"),
    Keyword("channel_binding", "PGCHANNELBINDING", "prefer"),
    Keyword("connect_timeout", "PGCONNECT_TIMEOUT"),
    Keyword("dbname", "PGDATABASE"),
    Keyword("host", "PGHOST"),
    Keyword("hostaddr", "PGHOSTADDR"),
    Keyword("port", "PGPORT", "5432"),
    Keyword("client_encoding", "PGCLIENTENCODING"),
    Keyword("options", "PGOPTIONS"),
    Keyword("application_name", "PGAPPNAME"),
    Keyword("fallback_application_name"),
    Keyword("keepalives", None, "1"),
    Keyword("keepalives_idle"),
    Keyword("keepalives_interval"),
    Keyword("keepalives_count"),
    Keyword("tcp_user_timeout"),
    Keyword("sslmode", "PGSSLMODE", "prefer"),
    Keyword("sslnegotiation", "PGSSLNEGOTIATION", "postgres"),
    Keyword("sslcompression", "PGSSLCOMPRESSION", "0"),
    Keyword("sslcert", "PGSSLCERT"),
    Keyword("sslkey", "PGSSLKEY"),
    Keyword("sslcertmode", "PGSSLCERTMODE", "allow"),
    Keyword("sslpassword"),
    Keyword("sslrootcert", "PGSSLROOTCERT"),
    Keyword("sslcrl", "PGSSLCRL"),
    Keyword("sslcrldir", "PGSSLCRLDIR"),
    Keyword("sslsni", "PGSSLSNI", "1"),
    Keyword("sslkeylogfile", "PGSSLKEYLOGFILE"),
    Keyword("requirepeer", "PGREQUIREPEER"),
    Keyword("require_auth", "PGREQUIREAUTH"),
    Keyword("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION", "TLSv1.2"),
    Keyword("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"),
    Keyword("min_protocol_version", "PGMINPROTOCOLVERSION"),
    Keyword("max_protocol_version", "PGMAXPROTOCOLVERSION"),
    Keyword("gssencmode", "PGGSSENCMODE", "prefer"),
    Keyword("krbsrvname", "PGKRBSRVNAME"),
    Keyword("gsslib", "PGGSSLIB"),
    Keyword("gssdelegation", "PGGSSDELEGATION", "0"),
    Keyword("replication"),
    Keyword("target_session_attrs", "PGTARGETSESSIONATTRS", "any"),
    Keyword("load_balance_hosts", "PGLOADBALANCEHOSTS", "disable"),
    Keyword("oauth_issuer"),
    Keyword("oauth_client_id"),
    Keyword("oauth_client_secret"),
    Keyword("oauth_scope"),
)

#: Environment variables libpq turns into startup parameters (section 32.15).
STARTUP_ENVIRONMENT: dict[str, str] = {
    "PGDATESTYLE": "datestyle",
    "PGTZ": "timezone",
    "PGGEQO": "geqo",
}

#: Keywords a service file may not set.
NOT_IN_SERVICE_FILE = frozenset({"service"})
