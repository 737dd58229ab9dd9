#!/usr/bin/env bash
# A guided tour of pgwire: setup.sh, then scripts/tour.py (arguments passed through).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
exec "$PYTHON" scripts/tour.py "$@"
