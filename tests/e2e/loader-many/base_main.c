/* The base image of the loader simulation for a program of several files (tests/it/e2e_wine.rs),
 * built without hot-patching: it plays the hot-patch loader. It loads patch.dll (patch_a.c,
 * patch_b.c, patch_state.c), checks that the pages holding `__ref_counter` and `__ref_total`
 * are read-only, calls both patched functions (which use the DLL's own globals), re-points both
 * pointers at its own globals (base_state.c) and calls them again: now the base image's
 * globals must change, through either file's function. Freestanding (/GS- /Zl, entry `start`).
 * The exit code says which step failed (0: all passed). */

typedef unsigned long long size_t;
typedef unsigned long DWORD;

/* MEMORY_BASIC_INFORMATION, x64 layout. */
typedef struct {
    void *BaseAddress;
    void *AllocationBase;
    DWORD AllocationProtect;
    unsigned short PartitionId;
    size_t RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
} MEMORY_BASIC_INFORMATION;

#define PAGE_READWRITE 0x04
/* PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY */
#define PAGE_ANY_WRITE 0xCC

__declspec(dllimport) void *__stdcall LoadLibraryA(const char *name);
__declspec(dllimport) void *__stdcall GetProcAddress(void *module, const char *name);
__declspec(dllimport) size_t __stdcall VirtualQuery(const void *addr, MEMORY_BASIC_INFORMATION *info, size_t size);
__declspec(dllimport) int __stdcall VirtualProtect(void *addr, size_t size, DWORD protect, DWORD *old);
__declspec(dllimport) void __stdcall ExitProcess(unsigned code);

extern int counter;
extern int total;

/* 1 if the page holding p is writable, 0 if not, -1 if it cannot be queried. */
static int writable(const void *p)
{
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(p, &info, sizeof info) == 0)
        return -1;
    return (info.Protect & PAGE_ANY_WRITE) != 0;
}

/* What the hot-patch loader does to one pointer: unprotect, re-point, protect again. */
static int redirect(int **ref, int *to)
{
    DWORD old, ignored;
    if (!VirtualProtect(ref, sizeof *ref, PAGE_READWRITE, &old))
        return 0;
    *ref = to;
    if (!VirtualProtect(ref, sizeof *ref, old, &ignored))
        return 0;
    return writable(ref) == 0;
}

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
