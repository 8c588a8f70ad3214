# SPDX-License-Identifier: GPL-2.0
#
# dinofs — the user-facing Makefile. Kbuild reads ./Kbuild, not this file.
#
#   make                 build dinofs.ko (against the cached test kernel,
#                        building it on first use) and the userspace tools
#   make samples         build the sample module samples/deferred_free (the
#                        bare pattern on rust/kernel_ext/; built with dinofs.ko)
#   make demo            boot the test VM and run the deferred-inactivation demo
#   make check           cargo tests + one VM boot running every in-guest test
#   make check T=NAME    run only the named in-guest test(s), e.g. T=010-load-unload
#   make soak            check + the long storm tests, on the KASAN kernel
#   make bench           measurements side by side (dinofs deferred and sync,
#                        ext4, xfs, tmpfs): table, bench.csv, bench.png
#   make shell           interactive test VM with dinofs.ko loaded
#   make xfstests XFSTESTS_DIR=/path/to/built/fstests [TESTS="generic/001 ..."]
#                        run fstests against dinofs in the test VM
#   make deps            install the pinned toolchain only
#   make kernel          build (or reuse) the cached test kernel only
#   make fmt             format the module (kernel rustfmt style) and the tools
#   make lint            formatting check, CLIPPY=1 module build, clippy on tools
#   make rust-analyzer   write rust-project.json for editors
#   make clean           remove build outputs from the tree
#
# Your own kernel: make KDIR=/path/to/kernel/build LLVM=-19 [RUSTC=... BINDGEN=...]
# (built with CONFIG_RUST=y); nothing is installed or built besides the module.
# Everything cached lives in $(DINOFS_CACHE) (default ~/.cache/dinofs).

SHELL := /bin/bash
TOP := $(CURDIR)
T ?=

# Command-line overrides reach the scripts as DINOFS_* variables.
define cmdline_override
ifeq ($$(origin $(1)),command line)
export DINOFS_$(1) := $$($(1))
endif
endef
$(foreach v,KDIR LLVM RUSTC HOSTRUSTC RUSTDOC BINDGEN,$(eval $(call cmdline_override,$(v))))
ifeq ($(origin DINOFS_CACHE),command line)
export DINOFS_CACHE
endif

.PHONY: all modules samples tools deps kernel check soak bench demo shell xfstests fmt lint rust-analyzer clean help

all: modules tools

modules:
	@$(TOP)/qemu-test/lib/module.sh >/dev/null

# The sample module is built with dinofs.ko (the top-level Kbuild descends
# into samples/); this target names it.
samples: modules
	@echo "samples: $(TOP)/samples/deferred_free/deferred_free.ko"

tools:
	@echo "tools: $$($(TOP)/qemu-test/lib/tools.sh)"

deps:
	@$(TOP)/qemu-test/lib/deps.sh

kernel:
	@$(TOP)/qemu-test/lib/kernel.sh

check:
	@$(TOP)/qemu-test/check.sh --mode check $(T)

# The soak runs on the KASAN kernel unless DINOFS_KERNEL_FLAVOR says otherwise.
soak:
	@DINOFS_KERNEL_FLAVOR=$${DINOFS_KERNEL_FLAVOR:-kasan} $(TOP)/qemu-test/check.sh --mode soak $(T)

# Measurements side by side in one VM boot (qemu-test/tests/600-bench.sh).
bench:
	@$(TOP)/qemu-test/check.sh --mode bench

demo:
	@$(TOP)/qemu-test/check.sh --mode demo

shell:
	@$(TOP)/qemu-test/check.sh --mode shell

# Independent of "make check": needs a fstests checkout the user built.
xfstests:
	@XFSTESTS_DIR="$(XFSTESTS_DIR)" XFSTESTS_TESTS="$(TESTS)" \
	 $(TOP)/qemu-test/check.sh --mode xfstests

fmt:
	@$(TOP)/qemu-test/lib/lint.sh fmt

lint:
	@$(TOP)/qemu-test/lib/lint.sh lint

# The kernel's own "rust-analyzer" target descends into "rust/" relative to
# an external module, which is dinofs's source directory; call its generator
# the way the kernel's rust/Makefile does instead.
rust-analyzer:
	@kdir=$$($(TOP)/qemu-test/lib/module.sh) && \
	 . $(TOP)/qemu-test/lib/common.sh && \
	 src=$$(readlink -f "$$kdir/source") && \
	 sysroot=$$($$RUSTC --print sysroot) && \
	 python3 "$$src/scripts/generate_rust_analyzer.py" \
		--cfgs='core=--cfg no_fp_fmt_parse' 2021 "$$src" "$$kdir" \
		"$$sysroot" "$$sysroot/lib/rustlib/src/rust/library" $(TOP) \
		>$(TOP)/rust-project.json && \
	 python3 $(TOP)/qemu-test/lib/rust-project.py $(TOP)/rust-project.json $(TOP) && \
	 echo "wrote $(TOP)/rust-project.json"

clean:
	@find $(TOP) -path $(TOP)/.git -prune -o -path $(TOP)/tools/target -prune -o \
	   \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
	      -o -name '.*.cmd' -o -name '*.d' -o -name 'Module.symvers' \
	      -o -name 'modules.order' -o -name '*.rmeta' \) -type f -print0 | xargs -0 rm -f
	@rm -f $(TOP)/rust/bindings_generated.rs $(TOP)/samples/*/bindings_generated.rs $(TOP)/rust-project.json
	@rm -rf $(TOP)/qemu-test/results

help:
	@sed -n '3,/^$$/p' $(TOP)/Makefile | sed 's/^# \{0,1\}//'
