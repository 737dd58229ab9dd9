#!/usr/bin/env bash
# Build the documentation site (Sphinx, MyST Markdown, furo) into
# docs/_build/html, warnings as errors.  The API reference is generated from
# the docstrings, read from the pure-Python sources (docs/conf.py sets
# PGWIRE_NO_EXTENSIONS).  Run scripts/setup.sh first (it installs Sphinx).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
exec "$PYTHON" -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@"
