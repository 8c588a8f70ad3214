# SPDX-License-Identifier: GPL-2.0
#
# The module-local bindgen recipe, shared by every module that compiles
# rust/kernel_ext/ (dinofs, the sample): included by their Kbuild files.
#
# Same recipe as the kernel's rust/Makefile: the module's own C flags minus
# the GCC-only ones libclang rejects. Only the kx_* shims and the items the
# including Kbuild allows in $(kx_bindgen_args) are generated; every other
# type they mention resolves to kernel::bindings through a glob import in the
# crate's bindings.rs, so shared types are the very same Rust types.

kx_bindgen_skip_c_flags := -mno-fp-ret-in-387 -mpreferred-stack-boundary=% \
	-mskip-rax-setup -mgeneral-regs-only -mindirect-branch=thunk-extern \
	-mindirect-branch-register -mfunction-return=thunk-extern -mrecord-mcount \
	-mindirect-branch-cs-prefix -mstack-protector-guard% -fconserve-stack \
	-falign-jumps=% -falign-loops=% -fno-ipa-cp-clone -fno-ipa-sra \
	-fno-partial-inlining -fno-reorder-blocks -fno-allow-store-data-races \
	-fasan-shadow-offset=% -fzero-call-used-regs=% -fno-stack-clash-protection \
	-fno-inline-functions-called-once -fsanitize=bounds-strict \
	-fstrict-flex-arrays=% -fmin-function-alignment=% --param=% --param \
	asan-% -fno-isolate-erroneous-paths-dereference -Wp,-MMD,%

quiet_cmd_kx_bindgen = BINDGEN $@
      cmd_kx_bindgen = \
	$(BINDGEN) $< --use-core --ctypes-prefix kernel::ffi --no-layout-tests \
		--no-doc-comments --no-recursive-allowlist \
		--allowlist-function 'kx_.*' --allowlist-type 'kx_.*' \
		--allowlist-function debugfs_remove --allowlist-function seq_write \
		$(kx_bindgen_args) \
		-o $@ -- $(filter-out $(kx_bindgen_skip_c_flags),$(c_flags)) \
		-w --target=x86_64-linux-gnu -fno-builtin -D__BINDGEN__ -DMODULE
