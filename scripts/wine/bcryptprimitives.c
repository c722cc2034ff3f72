/*
 * Stand-in for bcryptprimitives.dll, which wine 8 lacks and Windows 8 and
 * later ship. Go's runtime (1.22+) loads ProcessPrng from it at start-up and
 * exits if it cannot. This DLL exports ProcessPrng and fills the buffer with
 * advapi32's RtlGenRandom (SystemFunction036), which wine implements.
 *
 * A dev helper for running bin/azs-courier.exe under wine
 * (scripts/wine-run.sh builds and installs it); it is not shipped.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *          bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length: feed it in chunks. */
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
