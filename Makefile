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
#   make install    install what "make" built (see "Install" below)
#   make uninstall  remove what "make install" installed
#   make dkms-source  the module's sources for DKMS into /usr/src/dm-ilio-VERSION
#
# KDIR defaults to /lib/modules/$(KVER)/build when KVER is given, else the
# running kernel's build dir when it exists, else the newest installed
# linux-headers-*-amd64 (the kernel our users run).

KVER_RUNNING := $(shell uname -r)
ifneq ($(KVER),)
KDIR ?= /lib/modules/$(KVER)/build
endif
KDIR ?= $(shell if [ -d /lib/modules/$(KVER_RUNNING)/build ]; then \
		echo /lib/modules/$(KVER_RUNNING)/build; \
	else ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1; fi)

PWD := $(shell pwd)

.PHONY: all module tools testtools unit lint vm check demo bench fuzz deps clean \
	install uninstall dkms-source

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
	bash tests/vm/bench-hints.sh
	bash tests/vm/bench-nfs.sh
	bash tests/vm/bench-plots.sh

# fuzz: tests/fuzz (clang, libFuzzer + ASan/UBSan); make check runs the
# 45 s smoke run, tests/fuzz/smoke.sh.
fuzz:
	$(MAKE) -C tests/fuzz fuzz

# --- Install ---------------------------------------------------------------
#
# "make install" installs what "make" built; it builds nothing (so it also
# works as root from a read-only tree):
#   dm-ilio.ko    $(MODDIR) = /lib/modules/$(KVER)/extra (the kernel's own
#                 default for external modules), then "depmod -a $(KVER)",
#                 so that "modprobe dm-ilio" loads it with dm-mod, libcrc32c
#                 and lz4_compress
#   ilioctl       $(SBINDIR) = $(PREFIX)/sbin, PREFIX = /usr/local
#   man pages     Documentation/man/*.[1-8] and tools/*.[1-8] into
#                 $(MANDIR)/manN, MANDIR = $(PREFIX)/share/man
#   udev rules    tools/udev/*.rules into $(UDEVDIR)/rules.d, UDEVDIR =
#                 /lib/udev (udev reads no rules under /usr/local)
#   systemd       tools/systemd/*.{service,target,mount,socket,timer,path}
#                 into $(SYSTEMDUNITDIR) = /lib/systemd/system, and
#                 tools/systemd/*-generator (mode 0755) into
#                 $(SYSTEMDGENERATORDIR) = /lib/systemd/system-generators
# In the rules and units, @SBINDIR@ becomes $(SBINDIR) (without DESTDIR).
# KVER is the kernel the module was built for (its vermagic); a KVER given
# by hand must match it.  With DESTDIR (staging, packaging), depmod is not
# run: the package's postinst runs it.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UDEVDIR ?= /lib/udev
SYSTEMDUNITDIR ?= /lib/systemd/system
SYSTEMDGENERATORDIR ?= /lib/systemd/system-generators
KO := dm-ilio/dm-ilio.ko
# Read once, when first needed (not at every make).
KO_KVER = $(eval KO_KVER := $$(shell /sbin/modinfo -F vermagic $(KO) 2>/dev/null | cut -d' ' -f1))$(KO_KVER)
INST_KVER = $(or $(KVER),$(KO_KVER))
MODDIR ?= /lib/modules/$(INST_KVER)/extra
MANPAGES := $(wildcard Documentation/man/*.[1-8] tools/*.[1-8])
UDEVRULES := $(wildcard tools/udev/*.rules)
UNITS := $(foreach e,service target mount socket timer path,$(wildcard tools/systemd/*.$(e)))
GENERATORS := $(wildcard tools/systemd/*-generator)
SUBST := sed -e 's|@SBINDIR@|$(SBINDIR)|g'

install:
	@[ -f $(KO) ] && [ -x tools/ilioctl ] || { \
		echo "error: $(KO) or tools/ilioctl missing: run make first" >&2; exit 1; }
	@[ -n "$(INST_KVER)" ] || { echo "error: cannot read the vermagic of $(KO)" >&2; exit 1; }
	@[ -z "$(KVER)" ] || [ "$(KVER)" = "$(KO_KVER)" ] || { \
		echo "error: $(KO) was built for $(KO_KVER), not KVER=$(KVER): make KVER=$(KVER) first" >&2; \
		exit 1; }
	install -D -m 0644 $(KO) $(DESTDIR)$(MODDIR)/dm-ilio.ko
	install -D -m 0755 tools/ilioctl $(DESTDIR)$(SBINDIR)/ilioctl
	@set -e; for m in $(MANPAGES); do \
		s=$${m##*.}; \
		echo "install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}"; \
		install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done
	@set -e; for f in $(UDEVRULES:%=%:$(UDEVDIR)/rules.d:0644) \
		$(UNITS:%=%:$(SYSTEMDUNITDIR):0644) \
		$(GENERATORS:%=%:$(SYSTEMDGENERATORDIR):0755); do \
		src=$${f%%:*}; rest=$${f#*:}; dir=$${rest%%:*}; mode=$${rest#*:}; \
		dst=$(DESTDIR)$$dir/$${src##*/}; \
		echo "install -D -m $$mode $$src $$dst (@SBINDIR@ = $(SBINDIR))"; \
		install -d $$(dirname $$dst); \
		$(SUBST) $$src >$$dst.tmp && chmod $$mode $$dst.tmp && mv $$dst.tmp $$dst; \
	done
ifeq ($(DESTDIR),)
	/sbin/depmod -a $(INST_KVER)
else
	@echo "DESTDIR set: not running depmod (run depmod -a $(INST_KVER) on the target)"
endif

INSTALLED = $(MODDIR)/dm-ilio.ko $(SBINDIR)/ilioctl \
	$(foreach m,$(MANPAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
	$(addprefix $(UDEVDIR)/rules.d/,$(notdir $(UDEVRULES))) \
	$(addprefix $(SYSTEMDUNITDIR)/,$(notdir $(UNITS))) \
	$(addprefix $(SYSTEMDGENERATORDIR)/,$(notdir $(GENERATORS)))

uninstall:
	@[ -n "$(INST_KVER)" ] || { echo "error: give KVER= (no built $(KO) to read it from)" >&2; exit 1; }
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-@rmdir $(DESTDIR)$(MODDIR) 2>/dev/null || true
ifeq ($(DESTDIR),)
	/sbin/depmod -a $(INST_KVER)
endif

# --- DKMS ------------------------------------------------------------------
#
# "make dkms-source" copies what DKMS needs to build the module (dkms.conf,
# VERSION, Kbuild and dm-ilio/) into $(DKMS_SRC), /usr/src/dm-ilio-VERSION;
# "dkms install dm-ilio/VERSION" then adds, builds and installs it.  ("dkms
# add ." would copy the whole tree, build outputs and VM disks included.)

VERSION := $(shell cat VERSION)
DKMS_SRC ?= /usr/src/dm-ilio-$(VERSION)
# The module's sources, without kbuild's outputs (dm-ilio.mod.c).
DKMS_FILES = $(filter-out %.mod.c,$(wildcard dm-ilio/*.c)) $(wildcard dm-ilio/*.h)

dkms-source:
	rm -rf $(DESTDIR)$(DKMS_SRC)
	install -d $(DESTDIR)$(DKMS_SRC)/dm-ilio
	install -m 0644 dkms.conf VERSION Kbuild $(DESTDIR)$(DKMS_SRC)/
	install -m 0644 dm-ilio/Kbuild $(DKMS_FILES) $(DESTDIR)$(DKMS_SRC)/dm-ilio/

clean:
	-[ -n "$(KDIR)" ] && $(MAKE) -C $(KDIR) M=$(PWD) clean
	$(MAKE) -C tools clean
	$(MAKE) -C tests/unit clean
	rm -rf build
