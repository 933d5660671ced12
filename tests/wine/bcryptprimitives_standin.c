/*
 * TEST-ONLY STAND-IN for Windows' bcryptprimitives.dll, used ONLY to run the Windows build under
 * Wine 8 in this repository's tests (tests/dist.rs). It is never shipped in an archive, wheel or
 * package.
 *
 * Why: Rust's standard library on Windows 10+ gets random bytes from ProcessPrng in
 * bcryptprimitives.dll (every Windows 10 / Server 2016 has it). Wine 8 does not provide that DLL,
 * so any Rust program (and our DLL) fails to load under it. This stand-in exports the one function
 * with the real signature and fills the buffer from BCryptGenRandom (Wine implements it), which is
 * what Windows' own implementation draws from as well.
 *
 * Built by tests/dist.rs with: x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll THIS.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
