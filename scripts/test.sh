#!/usr/bin/env bash
# Run pgwire's tests: setup.sh, then pytest (arguments are passed through)
# against each build, then the linters (ruff check, mypy). Exits non-zero if
# any of them fails.
#
# Every test runs against both builds (DESIGN.md, "Performance"): first the
# compiled one (Cython), then pure Python (PGWIRE_NO_EXTENSIONS=1). When no
# compiled build is loaded (no Cython or no compiler here), pytest runs once,
# on pure Python; under CI that run fails (tests/test_build.py).
#
# PGWIRE_TEST_BUILDS=compiled or =pure runs one build only (default: both).
# PGWIRE_SKIP_LINT=1 skips the linters and the documentation build.
#
# After each build's pytest run, SQLAlchemy's dialect compliance suite runs
# against postgresql+pgwire and postgresql+pgwire_async
# (scripts/sqlalchemy_suite.py, about a minute per build; on the compiled
# build once more with SQLAlchemy 2.0), unless PGWIRE_SKIP_SQLALCHEMY=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
PYTHON=${PYTHON:-$(command -v python || command -v python3)}

logs=()
cleanup() { rm -f "${logs[@]}"; }
trap cleanup EXIT

color=()
[[ -t 1 ]] && color=(--color=yes)

compiled=$("$PYTHON" -W ignore -c "import pgwire; print(int(pgwire.compiled))" 2>/dev/null || echo 0)
case "${PGWIRE_TEST_BUILDS:-both}" in
    both) builds=(compiled pure) ;;
    compiled) builds=(compiled) ;;
    pure) builds=(pure) ;;
    *) echo "PGWIRE_TEST_BUILDS must be both, compiled or pure" >&2; exit 2 ;;
esac
if [[ "$compiled" != 1 && "${builds[0]}" == compiled ]]; then
    reason=$("$PYTHON" -W ignore -c "import pgwire._build as b; print(b.build_info()['reason'])" 2>/dev/null || echo "?")
    echo "== no compiled build is loaded ($reason): testing pure Python only"
    builds=(as-built)
fi

failed=()
summaries=()

# sqlalchemy_suite LABEL BUILD NO_EXTENSIONS PYTHONPATH: one run of
# scripts/sqlalchemy_suite.py, its counts kept for the final summary.
sqlalchemy_suite() {
    local label=$1 build=$2 no_ext=$3 path=$4 salog status line
    echo "== SQLAlchemy's dialect compliance suite ($label): $build build"
    salog=$(mktemp)
    logs+=("$salog")
    set +e
    if ((no_ext)); then
        PGWIRE_NO_EXTENSIONS=1 PYTHONPATH="$path" "$PYTHON" scripts/sqlalchemy_suite.py -q 2>&1 \
            | tee "$salog"
    else
        PYTHONPATH="$path" "$PYTHON" scripts/sqlalchemy_suite.py -q 2>&1 | tee "$salog"
    fi
    status=${PIPESTATUS[0]}
    set -e
    ((status == 0)) || failed+=("$label on the $build build (exit $status)")
    while read -r line; do
        summaries+=("$build build, $label: $line")
    done < <(grep -E '^[0-9]+ (passed|failed)' "$salog" | sed -E 's/ in [0-9.]+s.*//' || true)
}
for build in "${builds[@]}"; do
    log=$(mktemp)
    logs+=("$log")
    echo "== pytest: $build build"
    set +e
    if [[ "$build" == pure ]]; then
        PGWIRE_NO_EXTENSIONS=1 "$PYTHON" -m pytest "${color[@]}" "$@" 2>&1 | tee "$log"
    else
        "$PYTHON" -m pytest "${color[@]}" "$@" 2>&1 | tee "$log"
    fi
    pytest_status=${PIPESTATUS[0]}
    set -e
    ((pytest_status == 0)) || failed+=("pytest on the $build build (exit $pytest_status)")
    # Keep pytest's summary, to repeat it last.
    summary=$(grep -E '[0-9]+ (passed|failed|error|errors|skipped|deselected)|no tests ran' "$log" \
        | tail -n 1 | sed -E 's/^=+ //; s/ =+$//' || true)
    [[ -n "$summary" ]] && summaries+=("$build build: $summary")

    if [[ "${PGWIRE_SKIP_SQLALCHEMY:-0}" != 1 ]]; then
        no_ext=0
        [[ "$build" == pure ]] && no_ext=1
        sqlalchemy_suite "SQLAlchemy suite" "$build" "$no_ext" ""
        # Once more on SQLAlchemy 2.0 (setup.sh keeps it in .cache/sqlalchemy-2.0).
        sa20=.cache/sqlalchemy-2.0
        if [[ "$build" != pure && -f "$sa20/sqlalchemy/__init__.py" ]]; then
            sqlalchemy_suite "SQLAlchemy 2.0 suite" "$build" 0 "$(pwd)/$sa20"
        fi
    fi
done

if [[ "${PGWIRE_SKIP_LINT:-0}" != 1 ]]; then
    echo "== ruff check pgwire tests tests_sqlalchemy scripts bench"
    "$PYTHON" -m ruff check pgwire tests tests_sqlalchemy scripts bench || failed+=(ruff)
    echo "== mypy"
    "$PYTHON" -m mypy || failed+=(mypy)
    echo "== documentation (scripts/docs.sh: Sphinx, warnings as errors)"
    ./scripts/docs.sh || failed+=(docs)
fi

if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    for summary in "${summaries[@]}"; do echo "$summary"; done
    exit 1
fi
for summary in "${summaries[@]}"; do echo "$summary"; done
exit 0
