#!/bin/sh
# Run each Check test binary from the repository root and print one closing
# line with the totals, so CI logs end with "tests: N passed, N failed".
# Usage: tests/run-tests.sh BINARY...
passed=0
failed=0
status=0
for bin in "$@"; do
    out=$(CK_FORK=${CK_FORK:-no} "$bin" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    # Check prints "NN%: Checks: C, Failures: F, Errors: E".
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    if [ -n "$line" ]; then
        checks=$(printf '%s' "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        fails=$(printf '%s' "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
        errors=$(printf '%s' "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
        passed=$((passed + checks - fails - errors))
        failed=$((failed + fails + errors))
    elif [ $rc -ne 0 ]; then
        failed=$((failed + 1))
    fi
    if [ $rc -ne 0 ]; then
        echo "FAILED: $bin (exit status $rc)"
        status=1
    fi
done
echo "tests: $passed passed, $failed failed"
exit $status
