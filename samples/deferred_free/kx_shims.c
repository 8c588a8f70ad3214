// SPDX-License-Identifier: GPL-2.0
/* rust/kernel_ext/'s C shims, compiled into this module as its own object. */
#include "../../rust/kernel_ext/shims.c"
