using System;
using System.Text;

namespace Ky
{
    /// <summary>
    /// The native token calls on a live <c>ky_client*</c> (the caller holds a HandleLease or
    /// KyClientHandle.TryEnter around each of them), with the status-to-exception and UTF-8
    /// handling. All of them block the calling thread; GetAsync runs Get on a managed thread (AsyncCalls).
    /// </summary>
    internal static class TokenCalls
    {
        // A token this long would be absurd; the cap keeps a corrupt size from allocating gigabytes.
        private const int MaxTokenBuffer = 16 * 1024 * 1024;

        internal static string Get(IntPtr client, byte[] programId)
        {
            int size = NativeMethods.TokenBufferSize;
            // BUFFER_TOO_SMALL leaves the token cached, so the retry with the size the library asked
            // for is served from cache; a second retry only matters with a 0 TTL (refetch, new size).
            for (int attempt = 0; ; attempt++)
            {
                var buf = new byte[size];
                try
                {
                    int status = NativeMethods.ky_client_get_access_token(client, programId, buf, (UIntPtr)buf.Length);
                    if (status == (int)KyStatus.Ok) return Utf8.FromBuffer(buf);
                    if (status == (int)KyStatus.BufferTooSmall && attempt < 3)
                    {
                        ulong need = (ulong)NativeMethods.ky_last_required_size();
                        if (need > (ulong)buf.Length && need <= MaxTokenBuffer)
                        {
                            size = (int)need;
                            continue;
                        }
                    }
                    throw Errors.FromStatus(status);
                }
                finally
                {
                    Array.Clear(buf, 0, buf.Length);
                }
            }
        }

        internal static void Invalidate(IntPtr client, byte[] programId)
        {
            Errors.Check(NativeMethods.ky_client_invalidate_access_token(client, programId));
        }

        internal static bool InvalidateIf(IntPtr client, byte[] programId, string token)
        {
            if (token == null) throw new ArgumentNullException("token");
            byte[] bytes = Encoding.UTF8.GetBytes(token);
            try
            {
                byte invalidated;
                Errors.Check(NativeMethods.ky_client_invalidate_access_token_if(
                    client, programId, bytes, (UIntPtr)bytes.Length, out invalidated));
                return invalidated != 0;
            }
            finally
            {
                Array.Clear(bytes, 0, bytes.Length);
            }
        }

        internal static unsafe KyStats Stats(IntPtr client)
        {
            var raw = default(KyStatsNative);
            Errors.Check(NativeMethods.ky_client_stats(client, &raw, (UIntPtr)sizeof(KyStatsNative)));
            return new KyStats(ref raw);
        }
    }
}
