using System;
using System.Runtime.InteropServices;

namespace Ky
{
    /// <summary>
    /// Routes the library's log lines (one per upstream request, retry, failure, stale token served
    /// and background refresh; never containing a token) to a managed callback.
    /// </summary>
    public static class KyLog
    {
        // Never collected: the library keeps the function pointer while a callback is installed.
        private static readonly NativeLogCallback Trampoline = OnLine;
        private static readonly IntPtr TrampolinePtr = Marshal.GetFunctionPointerForDelegate<NativeLogCallback>(Trampoline);

        /// <summary>
        /// Installs <paramref name="callback"/> for lines at <paramref name="minLevel"/> and above,
        /// replacing any previous one; null removes it. It is called on whichever thread did the
        /// work (the caller of Get, a GetAsync thread, the client's refresh thread for prefetch and
        /// refresh-ahead), possibly several at once, so it must be thread-safe and must not block on
        /// the thread that unloads the domain (Unity's main thread); exceptions it throws are
        /// swallowed (they cannot cross into native code). It must not call SetCallback itself.
        /// </summary>
        /// <remarks>
        /// The library has one callback per process. It is removed when the AppDomain that
        /// installed it unloads (a Unity domain reload) or the process exits, before the domain's
        /// clients are freed; once removed, no library thread runs managed code.
        /// </remarks>
        /// <exception cref="InvalidOperationException">the AppDomain is unloading.</exception>
        public static void SetCallback(Action<KyLogLevel, string> callback, KyLogLevel minLevel = KyLogLevel.Info)
        {
            DomainGuard guard = DomainGuard.Current;
            lock (guard.LogGate)
            {
                if (callback != null && guard.IsClosed) throw DomainGuard.DomainClosing();
                GCHandle next = callback != null ? GCHandle.Alloc(callback) : default(GCHandle);
                int status = NativeMethods.ky_set_log_callback(
                    callback != null ? TrampolinePtr : IntPtr.Zero,
                    callback != null ? GCHandle.ToIntPtr(next) : IntPtr.Zero,
                    (int)minLevel);
                if (status != (int)KyStatus.Ok)
                {
                    KyException error = Errors.FromStatus(status);
                    if (next.IsAllocated) next.Free();
                    throw error;
                }
                // The library guarantees no call to the previous callback is still running.
                if (guard.LogCallback.IsAllocated) guard.LogCallback.Free();
                guard.LogCallback = next;
            }
        }

        [MonoPInvokeCallback(typeof(NativeLogCallback))]
        private static void OnLine(int level, IntPtr line, IntPtr userdata)
        {
            // An exception must never unwind into native code.
            try
            {
                if (userdata == IntPtr.Zero) return;
                var callback = GCHandle.FromIntPtr(userdata).Target as Action<KyLogLevel, string>;
                if (callback != null) callback((KyLogLevel)level, Utf8.FromNative(line));
            }
            catch (Exception)
            {
            }
        }
    }
}
