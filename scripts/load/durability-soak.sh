#!/usr/bin/env bash
# Hundreds of SIGKILLs of the server under write load (test/interop/durability.test.ts with
# more seeds), plus the overlay's own crash test. Not in CI: about 3 s per kill.
#   scripts/load/durability-soak.sh [KILLS] [FIRST_SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
KILLS="${1:-300}"
SEED="${2:-1000}"
DURABILITY_ITERATIONS="$KILLS" DURABILITY_SEED="$SEED" \
  node --import tsx --test --test-concurrency=1 --test-timeout=0 test/interop/durability.test.ts
OVERLAY_CRASH_ITERATIONS="$KILLS" OVERLAY_CRASH_SEED="$SEED" \
  node --import tsx --test --test-concurrency=1 --test-timeout=0 test/interop/overlay-crash.test.ts
