using System;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Ky
{
    /// <summary>
    /// The native token calls on a live <c>ky_client*</c> (KyClient holds a reference on its
    /// handle around each of them), with the status-to-exception and UTF-8 handling.
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

        // ---- asynchronous get ----------------------------------------------------------------

        /// <summary>What a queued native call needs to finish its Task; reached through a GCHandle.</summary>
        private sealed class Pending
        {
            // Continuations must not run on the library's worker thread: they would hold one of its
            // (at most 4) threads, and a continuation disposing the client would run inside its callback.
            internal readonly TaskCompletionSource<string> Source =
                new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            internal CancellationToken Cancellation;
            internal CancellationTokenRegistration Registration;
            // The KyClient's SafeHandle: rooted by the GCHandle so the finalizer cannot free the
            // client while its call is queued.
            internal object KeepAlive;
        }

        // Kept in a static field for the life of the process: the native side holds the function
        // pointer after the call returns, so the delegate must never be collected.
        private static readonly NativeTokenCallback TokenCallback = OnToken;
        private static readonly IntPtr TokenCallbackPtr = Marshal.GetFunctionPointerForDelegate<NativeTokenCallback>(TokenCallback);
        private static readonly Action<object> CancelCallback = OnCancel;

        internal static Task<string> GetAsync(IntPtr client, object keepAlive, byte[] programId, CancellationToken ct)
        {
            if (ct.IsCancellationRequested) return Task.FromCanceled<string>(ct);
            var pending = new Pending { Cancellation = ct, KeepAlive = keepAlive };
            // Registered before queuing so the callback, which disposes it, always sees it.
            if (ct.CanBeCanceled) pending.Registration = ct.Register(CancelCallback, pending);
            GCHandle handle = GCHandle.Alloc(pending);
            int status;
            try
            {
                status = NativeMethods.ky_client_get_access_token_async(
                    client, programId, TokenCallbackPtr, GCHandle.ToIntPtr(handle));
            }
            catch
            {
                // e.g. DllNotFoundException: nothing was queued.
                handle.Free();
                pending.Registration.Dispose();
                throw;
            }
            if (status != (int)KyStatus.Ok)
            {
                // Not queued (BUSY, CANCELLED): the callback will never run, so the handle is ours.
                KyException error = Errors.FromStatus(status);
                handle.Free();
                pending.Registration.Dispose();
                pending.Source.TrySetException(error);
            }
            return pending.Source.Task;
        }

        private static void OnCancel(object state)
        {
            var pending = (Pending)state;
            // Only the Task is completed; the native call runs on and its callback frees the GCHandle.
            pending.Source.TrySetCanceled(pending.Cancellation);
        }

        /// <summary>Runs once per queued call, on a library worker thread.</summary>
        [MonoPInvokeCallback(typeof(NativeTokenCallback))]
        private static void OnToken(int status, IntPtr token, UIntPtr tokenLen, IntPtr userdata)
        {
            Pending pending = null;
            // An exception must never unwind into native code: it would crash the process.
            try
            {
                GCHandle handle = GCHandle.FromIntPtr(userdata);
                pending = (Pending)handle.Target;
                handle.Free();
                pending.Registration.Dispose();
                if (status == (int)KyStatus.Ok)
                    pending.Source.TrySetResult(Utf8.FromNative(token, checked((int)(ulong)tokenLen)));
                else
                    // Read on this thread, during the callback, where the details of this failure live.
                    pending.Source.TrySetException(Errors.FromStatus(status));
            }
            catch (Exception e)
            {
                if (pending != null) pending.Source.TrySetException(e);
            }
        }
    }
}
