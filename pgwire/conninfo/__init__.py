"""Connection parameters: conninfo strings, URIs, environment variables (parsing only)."""

from .params import ConnectParams, build_params, parse_dsn

__all__ = ["ConnectParams", "build_params", "parse_dsn"]
