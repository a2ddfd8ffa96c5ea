/* hotpatch.h: source-level annotations for hotpatch-cl (Windows Secure Hot-Patching).
 *
 * HOTPATCH_ALLOW_DIRECT marks a global variable that hot-patched functions may access
 * directly, without the `__ref_` indirection: the patch then uses its own copy of the
 * variable. Use it for data that is safe to duplicate (caches, constant tables the patch
 * may change, per-image state), as clang's IR attribute
 * "allow_direct_access_in_hot_patch_function" does. hotpatch-cl reads it from
 * `@llvm.global.annotations`; other compilers ignore it.
 *
 *     #include <hotpatch.h>
 *     HOTPATCH_ALLOW_DIRECT int lookup_cache[64];
 *
 * Free of any other include, usable from C and C++.
 */
#ifndef HOTPATCH_H
#define HOTPATCH_H

#if defined(__clang__)
#define HOTPATCH_ALLOW_DIRECT __attribute__((annotate("hotpatch_allow_direct")))
#else
#define HOTPATCH_ALLOW_DIRECT
#endif

#endif /* HOTPATCH_H */
