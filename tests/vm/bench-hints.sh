#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-hints.sh - issue 12's desktop mix with and without region class
# hints (part of "make bench"): boots one VM that runs bench-hints-guest.sh
# and prints its table, build/vm/results/NAME/hints-summary.txt (raw data
# in hints.csv beside it; NAME is bench-hints unless --name says).
#
# Usage: bench-hints.sh [--name NAME] [GUEST ARGS...]
#   GUEST ARGS go to bench-hints-guest.sh: --ram-mb MB, --bin-mb MB,
#   --temp-mb MB, --rounds N, --runs N.
#
# Reported, never enforced: the exit code is non-zero only when the VM
# run failed (a crash, a timeout, a device that did not come up, data that
# read back wrong).

exec bash "$(dirname "${BASH_SOURCE[0]}")/bench-one.sh" hints "$@"
