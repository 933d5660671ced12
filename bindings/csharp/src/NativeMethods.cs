// P/Invoke declarations for every export of include/ky_access_token.h.
//
// Only blittable parameter types are used (IntPtr, byte[], integers, double, UIntPtr for size_t,
// `out byte` for bool*), so no marshalling stubs differ between Mono, IL2CPP and CoreCLR, and no
// string is ever converted by the runtime: callers encode and decode UTF-8 explicitly (Utf8.cs).
// Callbacks are passed as IntPtr from Marshal.GetFunctionPointerForDelegate on static methods
// marked [MonoPInvokeCallback], the one form IL2CPP supports.
using System;
using System.Runtime.InteropServices;

namespace Ky
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeTokenCallback(int status, IntPtr token, UIntPtr tokenLen, IntPtr userdata);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeLogCallback(int level, IntPtr line, IntPtr userdata);

    internal static class NativeMethods
    {
        // Resolved as libky_access_token.so / ky_access_token.dll / libky_access_token.dylib.
        // Desktop and server only (no iOS/WebGL static-link import): the access token is a
        // server credential that must never ship inside a game client.
        internal const string Lib = "ky_access_token";

        /// <summary>KY_TOKEN_BUFFER_SIZE: holds any token seen in practice, with its NUL.</summary>
        internal const int TokenBufferSize = 1024;

        // The C library's process-wide client. Declared for completeness; AccessToken uses a
        // client of its own instead, one it can free (see AccessToken's remarks).
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_get_access_token(byte[] programId, byte[] outBuf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr ky_get_access_token_alloc(byte[] programId);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void ky_string_free(IntPtr s);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_invalidate_access_token(byte[] programId);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_get_access_token_async(byte[] programId, IntPtr callback, IntPtr userdata);

        // Declared for completeness (tests/abi checks every function); GetAsync runs the blocking
        // get on managed threads instead, so no native thread ever enters managed code for it.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_get_access_token_async_detail(byte[] programId, IntPtr callback, IntPtr userdata);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_invalidate_access_token_if(
            byte[] programId, byte[] token, UIntPtr tokenLen, out byte outInvalidated);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern unsafe int ky_get_stats(KyStatsNative* outStats, UIntPtr outSize);

        // Per-thread error details and static strings.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr ky_last_error_message();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern long ky_last_api_err();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr ky_last_required_size();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr ky_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr ky_status_name(int status);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr ky_status_description(int status);

        // Clients.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_client_new(IntPtr config, out IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void ky_client_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_client_get_access_token(
            IntPtr client, byte[] programId, byte[] outBuf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr ky_client_get_access_token_alloc(IntPtr client, byte[] programId);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_client_invalidate_access_token(IntPtr client, byte[] programId);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_client_invalidate_access_token_if(
            IntPtr client, byte[] programId, byte[] token, UIntPtr tokenLen, out byte outInvalidated);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_client_get_access_token_async(
            IntPtr client, byte[] programId, IntPtr callback, IntPtr userdata);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_client_get_access_token_async_detail(
            IntPtr client, byte[] programId, IntPtr callback, IntPtr userdata);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern unsafe int ky_client_stats(IntPtr client, KyStatsNative* outStats, UIntPtr outSize);

        // Configurations.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_new(out IntPtr config);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_from_env(out IntPtr config);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void ky_config_free(IntPtr config);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_base_url(IntPtr config, byte[] url);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_timeout_ms(IntPtr config, ulong ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_connect_timeout_ms(IntPtr config, ulong ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_max_retries(IntPtr config, uint retries);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_cache_ttl_ms(IntPtr config, ulong ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_ca_file(IntPtr config, byte[] path);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_ca_pem(IntPtr config, byte[] pem, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_proxy(IntPtr config, byte[] proxy);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_user_agent_suffix(IntPtr config, byte[] suffix);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_refresh_ahead(IntPtr config, double fraction);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_stale_if_error_ms(IntPtr config, ulong ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_add_prefetch(IntPtr config, byte[] programId);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_config_set_max_programs(IntPtr config, ulong max);

        // Logging.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int ky_set_log_callback(IntPtr callback, IntPtr userdata, int minLevel);
    }
}
