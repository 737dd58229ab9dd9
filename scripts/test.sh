#!/usr/bin/env bash
# Run pgwire's tests: setup.sh, then pytest (arguments are passed through),
# then the linters (ruff check, mypy). Exits non-zero if any of them fails.
# PGWIRE_SKIP_LINT=1 skips the linters.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
PYTHON=${PYTHON:-$(command -v python || command -v python3)}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

color=()
[[ -t 1 ]] && color=(--color=yes)

failed=()
set +e
"$PYTHON" -m pytest "${color[@]}" "$@" 2>&1 | tee "$log"
pytest_status=${PIPESTATUS[0]}
set -e
((pytest_status == 0)) || failed+=("pytest (exit $pytest_status)")

if [[ "${PGWIRE_SKIP_LINT:-0}" != 1 ]]; then
    echo "== ruff check pgwire tests"
    "$PYTHON" -m ruff check pgwire tests || failed+=(ruff)
    echo "== mypy"
    "$PYTHON" -m mypy || failed+=(mypy)
fi

# Repeat pytest's summary so that it is the last thing printed.
summary=$(grep -E '[0-9]+ (passed|failed|error|errors|skipped|deselected)|no tests ran' "$log" | tail -n 1 \
    | sed -E 's/^=+ //; s/ =+$//' || true)
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    [[ -n "$summary" ]] && echo "$summary"
    exit 1
fi
[[ -n "$summary" ]] && echo "$summary"
exit 0
