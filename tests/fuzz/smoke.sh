#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh - the short fuzz run for make check: tests/fuzz/run.sh for
# FUZZ_SMOKE_SECONDS (default 45), plus FUZZ_ARGS_RUNS (default 100000, a
# few seconds) executions of fuzz-args, from the seed corpus alone
# (FUZZ_FRESH=1, so build/fuzz does not grow run after run).  Ends in
# "fuzz: N passed, N failed"; exits non-zero on any crash, leak, timeout or
# build failure.
FUZZ_FRESH=1 FUZZ_ARGS_RUNS=${FUZZ_ARGS_RUNS:-100000} \
	exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" "${FUZZ_SMOKE_SECONDS:-45}"
