/* A stand-in bcryptprimitives.dll for Wine 8.0, which lacks it.
 *
 * Rust's standard library (1.78 and later) gets its random seed from ProcessPrng in
 * bcryptprimitives.dll; on a Wine without that DLL every Rust program fails to load.
 * This DLL exports ProcessPrng and answers from advapi32's RtlGenRandom
 * (exported as SystemFunction036), which Wine has. It is only ever copied into the private
 * Wine prefix the Windows tests use (scripts/windows/wine-run), never shipped.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a ULONG length: feed larger requests in pieces. */
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
