#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Adds the dinofs crate to a kernel-generated rust-project.json.

The kernel's generate_rust_analyzer.py only finds module crates whose
directory has a Makefile naming the object; dinofs's crate root is named in
the top-level Kbuild. The crate gets the kernel crate's dependencies plus
the kernel crate itself, and the module's cfgs.
"""
import json
import sys

path, root = sys.argv[1], sys.argv[2]
with open(path) as f:
    project = json.load(f)
crates = project["crates"]
kernel = next(i for i, c in enumerate(crates) if c.get("display_name") == "kernel"
              or c["root_module"].endswith("rust/kernel/lib.rs"))
crates.append({
    "display_name": "dinofs",
    "root_module": f"{root}/rust/dinofs_main.rs",
    "is_workspace_member": True,
    "edition": crates[kernel].get("edition", "2021"),
    "deps": crates[kernel]["deps"] + [{"crate": kernel, "name": "kernel"}],
    "cfg": crates[kernel].get("cfg", []),
    "env": crates[kernel].get("env", {}),
})
with open(path, "w") as f:
    json.dump(project, f, indent=1)
