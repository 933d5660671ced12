using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Ky
{
    /// <summary>
    /// The binding's per-AppDomain state that must be torn down before the domain dies: every live
    /// client of this domain and the log callback this domain installed. When the domain unloads
    /// (a Unity domain reload) or the process exits, <see cref="Close"/> first removes the log
    /// callback — <c>ky_set_log_callback</c> returns only once no call to it is running, so no
    /// library thread enters this domain's code afterwards — then frees every client, waiting for
    /// the calls in flight on it (each bounded by the client's timeout): freeing a client stops and
    /// joins its refresh thread, the one library thread that may have run managed code here (the
    /// log callback). After that, no native library thread is inside this domain's code and none
    /// can enter it. See README.md, "AppDomains and Unity domain reloads".
    /// </summary>
    /// <remarks>
    /// Mono runs a child domain's ProcessExit handlers with the root domain current, where every
    /// static field of this assembly is the root domain's (empty) copy. So the handlers are
    /// instance methods and <see cref="Close"/> and everything it calls read instance fields only.
    /// </remarks>
    internal sealed class DomainGuard
    {
        /// <summary>This domain's guard (static fields are per AppDomain).</summary>
        internal static readonly DomainGuard Current = new DomainGuard();

        private readonly object gate = new object();
        // Long weak references (trackResurrection): an abandoned client is still found here while
        // its finalizer is pending, so it is freed before the domain dies rather than after.
        private readonly List<WeakReference<KyClientHandle>> clients = new List<WeakReference<KyClientHandle>>();
        private bool closed;

        /// <summary>Serializes KyLog.SetCallback and Close; guards <see cref="LogCallback"/>.</summary>
        internal readonly object LogGate = new object();

        /// <summary>The GCHandle (passed as userdata) of the log callback this domain installed, if any.</summary>
        internal GCHandle LogCallback;

        private DomainGuard()
        {
            AppDomain domain = AppDomain.CurrentDomain;
            domain.DomainUnload += OnUnloadOrExit;
            domain.ProcessExit += OnUnloadOrExit;
        }

        /// <summary>True once the domain started unloading (or the process exiting).</summary>
        internal bool IsClosed
        {
            get { lock (gate) return closed; }
        }

        /// <summary>Registers a new client; refuses (and the caller frees it) once the domain is closing.</summary>
        internal void Track(KyClientHandle handle)
        {
            lock (gate)
            {
                if (closed) throw DomainClosing();
                KyClientHandle alive;
                clients.RemoveAll(w => !w.TryGetTarget(out alive) || alive.IsClosed);
                clients.Add(new WeakReference<KyClientHandle>(handle, true));
            }
        }

        internal static InvalidOperationException DomainClosing()
        {
            return new InvalidOperationException(
                "the AppDomain is unloading or the process is exiting: no new client or log callback");
        }

        private void OnUnloadOrExit(object sender, EventArgs e)
        {
            Close();
        }

        /// <summary>Removes this domain's log callback, then frees all its clients. Runs once.</summary>
        internal void Close()
        {
            var handles = new List<KyClientHandle>();
            lock (gate)
            {
                if (closed) return;
                closed = true;
                foreach (WeakReference<KyClientHandle> w in clients)
                {
                    KyClientHandle h;
                    if (w.TryGetTarget(out h)) handles.Add(h);
                }
                clients.Clear();
            }
            lock (LogGate)
            {
                if (LogCallback.IsAllocated)
                {
                    // Waits for running calls to the callback; none starts afterwards.
                    NativeMethods.ky_set_log_callback(IntPtr.Zero, IntPtr.Zero, 0);
                    LogCallback.Free();
                    LogCallback = default(GCHandle);
                }
            }
            foreach (KyClientHandle h in handles)
            {
                try
                {
                    h.CloseAndWait();
                }
                catch (Exception)
                {
                    // Nothing may escape an unload or exit handler; the next client still gets freed.
                }
            }
        }
    }
}
