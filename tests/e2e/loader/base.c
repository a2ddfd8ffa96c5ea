/* The base image of the loader simulation (tests/e2e_wine.rs), built without hot-patching:
 * it plays the hot-patch loader. It loads patch.dll, checks that the page holding the patch's
 * `__ref_counter` is read-only, calls the patched `bump` (which still increments the DLL's own
 * `counter`), makes the page writable, points `__ref_counter` at its own `counter`, restores
 * the protection and calls `bump` again: now the base image's `counter` must change.
 * Freestanding (/GS- /Zl, entry point `start`): kernel32 only, declared here by hand.
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

int counter; /* the base image's global, the one the patch must end up using */

/* 1 if the page holding p is writable, 0 if not, -1 if it cannot be queried. */
static int writable(const void *p)
{
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(p, &info, sizeof info) == 0)
        return -1;
    return (info.Protect & PAGE_ANY_WRITE) != 0;
}

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
