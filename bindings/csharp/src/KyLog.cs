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
        private static readonly object Gate = new object();
        // Never collected: the library keeps the function pointer while a callback is installed.
        private static readonly NativeLogCallback Trampoline = OnLine;
        private static readonly IntPtr TrampolinePtr = Marshal.GetFunctionPointerForDelegate<NativeLogCallback>(Trampoline);
        // The installed callback's GCHandle, passed to the library as userdata.
        private static GCHandle current;
        private static bool unloadHooked;

        /// <summary>
        /// Installs <paramref name="callback"/> for lines at <paramref name="minLevel"/> and above,
        /// replacing any previous one; null removes it. It is called on whichever thread did the
        /// work, possibly several at once, so it must be thread-safe; exceptions it throws are
        /// swallowed (they cannot cross into native code). It must not call SetCallback itself.
        /// </summary>
        public static void SetCallback(Action<KyLogLevel, string> callback, KyLogLevel minLevel = KyLogLevel.Info)
        {
            lock (Gate)
            {
                HookDomainUnload();
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
                if (current.IsAllocated) current.Free();
                current = next;
            }
        }

        /// <summary>
        /// A Unity editor domain reload (or an AppDomain unload) leaves the native library loaded
        /// but the trampoline gone, and at process exit the runtime stops before the library's
        /// threads do, so the callback is removed before either happens.
        /// </summary>
        private static void HookDomainUnload()
        {
            if (unloadHooked) return;
            unloadHooked = true;
            AppDomain.CurrentDomain.DomainUnload += delegate { SetCallback(null); };
            AppDomain.CurrentDomain.ProcessExit += delegate { SetCallback(null); };
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
