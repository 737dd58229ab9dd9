"""Connection parameters: parsing and checking only, no network I/O."""

from .params import ConnectParams, Host, build_params, parse_dsn
from .strings import parse_conninfo

__all__ = ["ConnectParams", "Host", "build_params", "parse_conninfo", "parse_dsn"]
