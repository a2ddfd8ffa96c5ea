/* What every freestanding loader program of the end-to-end tests (tests/it/e2e_wine.rs) needs:
 * the kernel32 functions it calls, declared by hand (no Windows SDK here), and the two steps
 * of a hot-patch loader: asking whether a page is writable, and re-pointing one `__ref_`
 * pointer (unprotect, write, protect again). Included by loader/base.c,
 * loader-many/base_main.c and fix/host.c. */

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
__declspec(dllimport) void *__stdcall GetStdHandle(DWORD which);
__declspec(dllimport) int __stdcall WriteFile(void *file, const void *buf, DWORD len, DWORD *written, void *overlapped);
__declspec(dllimport) void __stdcall ExitProcess(unsigned code);

/* 1 if the page holding p is writable, 0 if not, -1 if it cannot be queried. */
static inline int writable(const void *p)
{
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery(p, &info, sizeof info) == 0)
        return -1;
    return (info.Protect & PAGE_ANY_WRITE) != 0;
}

/* What the hot-patch loader does to one pointer: unprotect, re-point, protect again; 1 when
 * the pointer is read-only again afterwards. */
static inline int redirect(int **ref, int *to)
{
    DWORD old, ignored;
    if (!VirtualProtect(ref, sizeof *ref, PAGE_READWRITE, &old))
        return 0;
    *ref = to;
    if (!VirtualProtect(ref, sizeof *ref, old, &ignored))
        return 0;
    return writable(ref) == 0;
}
