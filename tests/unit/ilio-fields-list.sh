#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ilio-fields-list.sh - print the rows of dm-ilio/ilio-fields.h as the C
# preprocessor expands them, one "<list> <pos> <name>" line each, in list
# order: status_v1, status_v2 and status_v3 (the INFO fields 2..17,
# 18..23 and 24..25), sysfs
# (the sysfs-only values), mode (the mode words) and special (the two
# sysfs files that are not numbers); and after each row of scope
# PERSISTENT (and the special file of that scope) a "persistent 0 NAME"
# line: the sysfs files that a diskless device does not show.  Used by tests/unit/test-fields.sh and
# tests/vm/t-14-counters.sh, so that they compare against the one
# definition rather than a copy of it.
#
# Usage: bash tests/unit/ilio-fields-list.sh [REPO]
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
{
	echo '#include "ilio-fields.h"'
	echo 'ILIO_FIELDS_LIST_BEGIN'
	echo '#define PS_ANY(name)'
	echo '#define PS_PERSISTENT(name) @persistent 0 name'
	echo '#define PS2(scope, name) PS_##scope(name)'
	echo '#define PS(scope, name) PS2(scope, name)'
	echo '#define S1(ID, name, pos, src, scope, member, doc) @status_v1 pos name PS(scope, name)'
	echo '#define S2(ID, name, pos, src, scope, member, doc) @status_v2 pos name PS(scope, name)'
	echo '#define S3(ID, name, pos, src, scope, member, doc) @status_v3 pos name PS(scope, name)'
	echo '#define SY(ID, name, pos, src, scope, member, doc) @sysfs pos name PS(scope, name)'
	echo '#define MW(ID, word) @mode 0 word'
	echo 'ILIO_STATUS_FIELDS_V1(S1) ILIO_STATUS_FIELDS_V2(S2) ILIO_STATUS_FIELDS_V3(S3)'
	echo 'ILIO_SYSFS_FIELDS(SY) ILIO_MODE_WORDS(MW)'
	echo '@special 0 ILIO_SYSFS_MODE @special 0 ILIO_SYSFS_WHIST'
	echo 'PS(ILIO_SYSFS_WHIST_SCOPE, ILIO_SYSFS_WHIST)'
} | cpp -P -I "$root/dm-ilio" - | sed -n '/^ILIO_FIELDS_LIST_BEGIN/,$p' |
	tail -n +2 | tr '@' '\n' | tr -d '"' | awk 'NF == 3 { print $1, $2, $3 }'
