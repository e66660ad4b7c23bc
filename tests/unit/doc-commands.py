#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# doc-commands.py - every command the README, the admin guide and the man
# pages show is run by a test, or says why it cannot be.
#
# It extracts the commands:
#   * the admin guide (reStructuredText): every line of a literal block
#     that starts with a "# " or "$ " prompt, or a host's ("B# "),
#     "\" continuations joined;
#   * the README and the man pages' .EX blocks: the lines whose first word
#     is a command (COMMAND_RE), with or without a "# " prompt, and the
#     "# " prompt lines of the man pages;
# with any trailing "  # comment" removed, and checks each against
# tests/unit/doc-commands.list, whose lines are (tab-separated)
#   COMMAND  TEST  EVIDENCE   run by TEST, a file of the repository that
#                             contains EVIDENCE (a fixed string: the form
#                             in which it runs the command)
#   COMMAND  -     REASON     not run by any test, and why
#   COMMAND  text  REASON     a prompt line that is not a command (a file's
#                             comment, a continued comment)
# It fails on a command the list lacks, on a list entry no document shows
# any more, on a TEST that does not exist or lacks its EVIDENCE outside
# its comment lines, on a TEST outside tests/ (or .ci/run), on a command
# listed twice, on a "text" entry that reads as a command, and when a
# document yields fewer commands than MIN_COMMANDS (an extractor that
# stopped seeing them).  Commands named in running text (inline literals)
# are not extracted: the tests of each command's options cover those.
#
# Usage: doc-commands.py [--list]   (--list: print the commands found)
# Prints "doc-commands: N passed, N failed"; exit 1 on any failure.

import os
import re
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIST = os.path.join(ROOT, "tests", "unit", "doc-commands.list")
GUIDE = "Documentation/admin-guide/device-mapper/ilio.rst"
MANS = ["Documentation/man/dm-ilio.4", "Documentation/man/ilioctl.8",
        "Documentation/man/iliotab.5"]
# What each document showed at stop 26, less a margin for edits.
MIN_COMMANDS = {GUIDE: 80, "README": 18, MANS[0]: 6, MANS[1]: 6, MANS[2]: 2}
COMMAND_RE = re.compile(
    r"^(make|modprobe|insmod|echo|cat|dmsetup|tools/ilioctl|ilioctl|mkfs\.\S+|"
    r"mount|systemctl|dkms)\s")


def strip_comment(cmd):
    # A "#" after two spaces starts a comment (the documents' style); one
    # inside quotes does not occur in them.
    m = re.search(r"\s{2,}#.*$", cmd)
    return (cmd[:m.start()] if m else cmd).strip()


def guide_commands(path):
    out = []
    lines = open(os.path.join(ROOT, path)).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            base = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) > base:
                ind = len(lines[j]) - len(lines[j].lstrip())
                while j < len(lines) and (not lines[j].strip() or
                                          len(lines[j]) - len(lines[j].lstrip()) >= ind):
                    # "# cmd", "$ cmd", and "B# cmd" (a command on host B)
                    m = re.match(r"^(?:[A-Za-z][\w.-]*)?[#$] (.*)", lines[j].strip())
                    if m:
                        cmd, ln = m.group(1), j + 1
                        while cmd.endswith("\\") and j + 1 < len(lines):
                            j += 1
                            cmd = cmd[:-1].rstrip() + " " + lines[j].strip()
                        out.append((f"{path}:{ln}", strip_comment(cmd)))
                    j += 1
                i = j
                continue
        i += 1
    return out


def readme_commands(path):
    out = []
    for n, line in enumerate(open(os.path.join(ROOT, path)), 1):
        if not line.startswith("    "):
            continue
        s = line.strip()
        s = re.sub(r"^#\s+", "", s)
        if COMMAND_RE.match(s + " "):
            out.append((f"{path}:{n}", strip_comment(s)))
    return out


def man_commands(path):
    out = []
    ex = False
    for n, line in enumerate(open(os.path.join(ROOT, path)), 1):
        line = line.rstrip("\n")
        if line.startswith(".EX"):
            ex = True
            continue
        if line.startswith(".EE"):
            ex = False
            continue
        if not ex or line.startswith("."):
            continue
        s = line.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\").strip()
        prompt = s.startswith("# ")
        if prompt:
            s = s[2:]
        if prompt or COMMAND_RE.match(s + " "):
            out.append((f"{path}:{n}", strip_comment(s)))
    return out


def main():
    per_doc = {GUIDE: guide_commands(GUIDE), "README": readme_commands("README")}
    for m in MANS:
        per_doc[m] = man_commands(m)
    found = [c for doc in per_doc.values() for c in doc]
    if "--list" in sys.argv[1:]:
        for where, cmd in found:
            print(f"{where}: {cmd}")
        return 0
    entries = {}
    for n, line in enumerate(open(LIST), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) != 3 or not all(x.strip() for x in f):
            print(f"FAIL: {LIST}:{n}: not COMMAND<tab>TEST<tab>EVIDENCE")
            entries.setdefault("\0bad", []).append(n)
            continue
        if f[0] in entries:
            print(f"FAIL: {LIST}:{n}: '{f[0]}' is listed twice")
            entries.setdefault("\0bad", []).append(n)
            continue
        if f[1] == "text" and COMMAND_RE.match(f[0] + " "):
            print(f"FAIL: {LIST}:{n}: '{f[0]}' reads as a command, not text")
            entries.setdefault("\0bad", []).append(n)
        elif f[1] not in ("-", "text") and not (f[1].startswith("tests/") or f[1] == ".ci/run"):
            print(f"FAIL: {LIST}:{n}: test {f[1]} is not under tests/")
            entries.setdefault("\0bad", []).append(n)
        entries[f[0]] = (n, f[1], f[2])
    passed = failed = 0
    bad = entries.pop("\0bad", [])
    failed += len(bad)
    for doc, cmds in per_doc.items():
        if len(cmds) < MIN_COMMANDS[doc]:
            print(f"FAIL: {doc}: {len(cmds)} commands found, at least {MIN_COMMANDS[doc]} expected")
            failed += 1
        else:
            passed += 1
    cache = {}
    seen = set()
    for where, cmd in found:
        e = entries.get(cmd)
        if e is None:
            print(f"FAIL: {where}: '{cmd}' is in no line of {os.path.relpath(LIST, ROOT)}")
            failed += 1
            continue
        seen.add(cmd)
        n, test, ev = e
        if test in ("-", "text"):
            passed += 1
            continue
        p = os.path.join(ROOT, test)
        if test not in cache:
            # Evidence in a comment line proves nothing: those go.
            cache[test] = "\n".join(
                l for l in open(p).read().split("\n")
                if not l.lstrip().startswith("#")) if os.path.isfile(p) else None
        if cache[test] is None:
            print(f"FAIL: {where}: '{cmd}': test {test} does not exist")
            failed += 1
        elif ev not in cache[test]:
            print(f"FAIL: {where}: '{cmd}': {test} does not contain '{ev}'")
            failed += 1
        else:
            passed += 1
    for cmd, (n, _, _) in entries.items():
        if cmd not in seen:
            print(f"FAIL: {os.path.relpath(LIST, ROOT)}:{n}: '{cmd}' is in no document any more")
            failed += 1
    print(f"doc-commands: {passed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())
