#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the module's layering (Documentation/filesystem.rst, "Code map").

Every module of the crate belongs to a layer; a module may use modules of
its own layer or of layers below it, never above. `unsafe` may appear only
in the layers that allow it. Prints the module dependency list and exits 1
on a violation.

    layers.py [--graph]     (run from anywhere; reads rust/ of this tree)
"""
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUST = os.path.join(TOP, "rust")

# Bottom to top. The crate root (dinofs_main) is above everything.
LAYERS = [
    ("bindings", ["bindings"], True),
    ("abstractions", ["kernel_ext", "trace"], True),
    ("vfs glue", ["vfs"], True),
    ("engine", ["inodegc"], False),
    ("on-disk format", ["format"], False),
    ("dinofs", ["fs"], False),
    ("module root", ["dinofs_main"], False),
]
LEVEL = {m: i for i, (_, mods, _) in enumerate(LAYERS) for m in mods}
UNSAFE_OK = {m for _, mods, ok in LAYERS if ok for m in mods}


def modpath(path):
    """rust/fs/inode.rs -> ['fs', 'inode']; rust/vfs/mod.rs -> ['vfs']."""
    rel = os.path.relpath(path, RUST)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    return rel


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    return "\n".join(line.split("//")[0] for line in src.splitlines())


def uses(path, mp):
    """Top-level modules `path` refers to (crate:: paths, super:: paths)."""
    src = strip_comments(open(path, encoding="utf-8").read())
    found = set()
    for m in re.finditer(r"\bcrate::([a-z_][a-z0-9_]*)", src):
        found.add(m.group(1))
    # A super:: chain from a nested module can climb out of its top module.
    is_mod = os.path.basename(path) == "mod.rs"
    depth = len(mp) - (0 if is_mod else 1)
    for m in re.finditer(r"\b((?:super::)+)([a-z_][a-z0-9_]*)", src):
        ups = m.group(1).count("super::")
        base = mp[: len(mp) - ups] if is_mod else mp[: len(mp) - 1 - (ups - 1)]
        if ups > depth or not base:
            found.add(m.group(2))
        else:
            found.add(base[0])
    return found


def main():
    graph = {}
    unsafe_in = {}
    for root, _, files in os.walk(RUST):
        for f in sorted(files):
            if not f.endswith(".rs") or f == "bindings_generated.rs":
                continue
            path = os.path.join(root, f)
            mp = modpath(path)
            top = mp[0]
            graph.setdefault(top, set()).update(uses(path, mp) - {top})
            n = len(re.findall(r"\bunsafe\s*\{", strip_comments(open(path, encoding="utf-8").read())))
            unsafe_in[top] = unsafe_in.get(top, 0) + n
    bad = []
    for mod, deps in sorted(graph.items()):
        if mod not in LEVEL:
            bad.append(f"module {mod} is in no layer")
            continue
        for d in sorted(deps):
            if d not in LEVEL:
                continue  # kernel crate items reached as crate:: never occur
            if LEVEL[d] > LEVEL[mod]:
                bad.append(f"{mod} ({LAYERS[LEVEL[mod]][0]}) uses {d} ({LAYERS[LEVEL[d]][0]}): an upward arrow")
        if unsafe_in.get(mod, 0) and mod not in UNSAFE_OK:
            bad.append(f"{mod} has {unsafe_in[mod]} unsafe blocks outside the abstraction layers")
    for name, mods, _ in LAYERS:
        for m in mods:
            deps = ", ".join(sorted(graph.get(m, set()))) or "-"
            print(f"{name:16} {m:12} unsafe {unsafe_in.get(m, 0):4}  uses: {deps}")
    for b in bad:
        print("FAIL", b)
    print(f"layers: {0 if bad else 1} passed, {1 if bad else 0} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
