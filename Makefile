# SPDX-License-Identifier: GPL-2.0
#
# dm-ilio top-level Makefile.
#
#   make            build dm-ilio/dm-ilio.ko (against KDIR) and tools/ilioctl
#   make check      install what is missing, then run every test (unit, lint, VM)
#   make demo       boot a VM, fill a diskless ilio device with OS images, show savings
#   make bench      benchmarks (reported, never pass/fail)
#   make fuzz       libFuzzer on the metadata parser and recovery, FUZZ_SECONDS (300),
#                   and on the table-line and message parsers (1.2M executions)
#   make deps       install build and test dependencies (Debian)
#
# KDIR defaults to the running kernel's build dir when it exists, else the
# newest installed linux-headers-*-amd64 (the kernel our users run).

KVER_RUNNING := $(shell uname -r)
KDIR ?= $(shell if [ -d /lib/modules/$(KVER_RUNNING)/build ]; then \
		echo /lib/modules/$(KVER_RUNNING)/build; \
	else ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1; fi)

PWD := $(shell pwd)

.PHONY: all module tools testtools unit lint vm check demo bench fuzz deps clean

all: module tools testtools

module:
	@if [ -z "$(KDIR)" ] || [ ! -d "$(KDIR)" ]; then \
		echo "error: no kernel build dir; run 'make deps' or set KDIR=" >&2; exit 1; fi
	$(MAKE) -C $(KDIR) M=$(PWD) modules

tools:
	$(MAKE) -C tools

# Host-built helpers that the VM tests run in the guest.
testtools:
	$(MAKE) -C tests/crash

deps:
	bash scripts/install-deps.sh

unit:
	$(MAKE) -C tests/unit check

lint:
	bash scripts/lint.sh

vm: module tools testtools
	bash tests/vm/run-all.sh

# check: the whole suite (scripts/check.sh): unit, build, lint, VM; it
# prints a grand total "check: N passed, N failed" last.
check: deps
	bash scripts/check.sh

demo: deps
	$(MAKE) all
	bash tests/vm/demo.sh

bench: deps
	$(MAKE) all
	$(MAKE) -C tests/unit bench
	bash tests/vm/bench.sh
	bash tests/vm/bench-lat.sh
	bash tests/vm/bench-lat.sh --name bench-lat-journal --only pers --journal
	bash tests/vm/bench-vdi.sh

# fuzz: tests/fuzz (clang, libFuzzer + ASan/UBSan); make check runs the
# 45 s smoke run, tests/fuzz/smoke.sh.
fuzz:
	$(MAKE) -C tests/fuzz fuzz

clean:
	-[ -n "$(KDIR)" ] && $(MAKE) -C $(KDIR) M=$(PWD) clean
	$(MAKE) -C tools clean
	$(MAKE) -C tests/unit clean
	rm -rf build
