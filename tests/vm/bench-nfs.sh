#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-nfs.sh - issue 11's NFS figures (part of "make bench"): boots one
# VM that runs bench-nfs-guest.sh (sync and async NFS writes, with and
# without a journal device) and prints its table,
# build/vm/results/NAME/nfs-summary.txt (raw data in nfs.csv beside it;
# NAME is bench-nfs unless --name says).
#
# Usage: bench-nfs.sh [--name NAME] [--size MB]
#
# Reported, never enforced: the exit code is non-zero only when the VM
# run failed (a crash, a timeout, a device that did not come up, data that
# read back wrong).

exec bash "$(dirname "${BASH_SOURCE[0]}")/bench-one.sh" nfs "$@"
