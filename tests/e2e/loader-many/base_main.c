/* The base image of the loader simulation for a program of several files (tests/it/e2e_wine.rs),
 * built without hot-patching: it plays the hot-patch loader. It loads patch.dll (patch_a.c,
 * patch_b.c, patch_state.c), checks that the pages holding `__ref_counter` and `__ref_total`
 * are read-only, calls both patched functions (which use the DLL's own globals), re-points both
 * pointers at its own globals (base_state.c) and calls them again: now the base image's
 * globals must change, through either file's function. Freestanding (/GS- /Zl, entry `start`).
 * The exit code says which step failed (0: all passed). */

#include "../loader/loader.h"

extern int counter;
extern int total;

static int simulate(void)
{
    void *dll = LoadLibraryA("patch.dll");
    if (!dll)
        return 10;
    int (*bump_a)(void) = (int (*)(void))GetProcAddress(dll, "bump_a");
    int (*bump_b)(void) = (int (*)(void))GetProcAddress(dll, "bump_b");
    int **ref_counter = (int **)GetProcAddress(dll, "__ref_counter");
    int **ref_total = (int **)GetProcAddress(dll, "__ref_total");
    if (!bump_a || !bump_b || !ref_counter || !ref_total)
        return 11;
    if (writable(ref_counter) != 0 || writable(ref_total) != 0)
        return 12; /* __ref_s must live in read-only pages */
    int *dll_counter = *ref_counter, *dll_total = *ref_total;
    /* Loaded as is, both files' functions use the DLL's own globals. */
    if (bump_a() != 1 || bump_b() != 101 || *dll_counter != 101 || *dll_total != 11)
        return 13;
    if (counter != 0 || total != 0)
        return 14;

    if (!redirect(ref_counter, &counter) || !redirect(ref_total, &total))
        return 15;

    /* Redirected once, both files' functions use the base image's globals. */
    if (bump_a() != 1 || bump_b() != 101 || bump_a() != 102)
        return 16;
    if (counter != 102 || total != 12)
        return 17;
    if (*dll_counter != 101 || *dll_total != 11)
        return 18; /* the DLL's own copies are left alone */
    return 0;
}

void start(void)
{
    ExitProcess(simulate());
}
