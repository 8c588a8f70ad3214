/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dinofs C helpers: the one header shared by rust/helpers.c and the
 * module-local bindgen run (see Kbuild). Everything declared here is
 * callable from Rust as crate::bindings::dinofs_*().
 *
 * Keep this file small: it is for kernel APIs that are static inline or
 * macros (and so have no symbol Rust can call), for tables that must live in
 * static storage, and for module parameters. Logic belongs in Rust.
 */
#ifndef DINOFS_HELPERS_H
#define DINOFS_HELPERS_H

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/types.h>

/* The filesystem type, defined in helpers.c (static storage for lockdep). */
int dinofs_register_filesystem(void);
void dinofs_unregister_filesystem(void);

/* errorfc() is a macro: report a mount error into the fs_context log. */
void dinofs_fc_error(struct fs_context *fc, const char *msg);

/* Harness self-test switch (module parameter selftest_splat). */
bool dinofs_selftest_splat(void);
void dinofs_selftest_warn(void);

/* Implemented in Rust (rust/vfs.rs), referenced by the C tables; not bound. */
int dinofs_rs_init_fs_context(struct fs_context *fc);

#endif /* DINOFS_HELPERS_H */
