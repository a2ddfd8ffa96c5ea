/* The base image of the loader simulation (tests/e2e_wine.rs), built without hot-patching:
 * it plays the hot-patch loader. It loads patch.dll, checks that the page holding the patch's
 * `__ref_counter` is read-only, calls the patched `bump` (which still increments the DLL's own
 * `counter`), makes the page writable, points `__ref_counter` at its own `counter`, restores
 * the protection and calls `bump` again: now the base image's `counter` must change.
 * Freestanding (/GS- /Zl, entry point `start`): kernel32 only, declared here by hand.
 * The exit code says which step failed (0: all passed). */

#include "loader.h"

int counter; /* the base image's global, the one the patch must end up using */

static int simulate(void)
{
    void *dll = LoadLibraryA("patch.dll");
    if (!dll)
        return 10;
    int (*bump)(void) = (int (*)(void))GetProcAddress(dll, "bump");
    int **ref = (int **)GetProcAddress(dll, "__ref_counter");
    if (!bump || !ref)
        return 11;
    if (writable(ref) != 0)
        return 12; /* __ref_ must live in a read-only page */
    int *dll_counter = *ref;
    if (bump() != 1 || *dll_counter != 1 || counter != 0)
        return 13; /* loaded as is, the patch uses its own global */

    DWORD old, ignored;
    if (!VirtualProtect(ref, sizeof *ref, PAGE_READWRITE, &old))
        return 14;
    *ref = &counter;
    if (!VirtualProtect(ref, sizeof *ref, old, &ignored))
        return 15;
    if (writable(ref) != 0)
        return 16;

    if (bump() != 1 || bump() != 2 || counter != 2 || *dll_counter != 1)
        return 17; /* redirected, the patch uses the base image's global */
    return 0;
}

void start(void)
{
    ExitProcess(simulate());
}
