using System;
using System.Collections.Generic;

namespace Ky
{
    /// <summary>
    /// Frees every live client when the AppDomain unloads (a Unity editor domain reload) or the
    /// process exits. A client's worker threads become runtime threads once they run a callback;
    /// while they live, Mono's shutdown waits for them forever (reproduced with Mono 6.8: the
    /// process hangs after Main returns), and after a domain reload a callback would jump into
    /// unloaded code. Freeing the clients joins those threads first.
    /// </summary>
    internal static class ClientLifetime
    {
        private static readonly object Gate = new object();
        // Weak: tracking must not keep an abandoned client from being finalized (and freed).
        private static readonly List<WeakReference<KyClientHandle>> Live = new List<WeakReference<KyClientHandle>>();
        private static bool hooked;

        internal static void Track(KyClientHandle handle)
        {
            lock (Gate)
            {
                if (!hooked)
                {
                    hooked = true;
                    AppDomain.CurrentDomain.DomainUnload += delegate { DisposeAll(); };
                    AppDomain.CurrentDomain.ProcessExit += delegate { DisposeAll(); };
                }
                KyClientHandle alive;
                Live.RemoveAll(w => !w.TryGetTarget(out alive) || alive.IsClosed);
                Live.Add(new WeakReference<KyClientHandle>(handle));
            }
        }

        private static void DisposeAll()
        {
            List<KyClientHandle> handles = new List<KyClientHandle>();
            lock (Gate)
            {
                foreach (WeakReference<KyClientHandle> w in Live)
                {
                    KyClientHandle h;
                    if (w.TryGetTarget(out h)) handles.Add(h);
                }
                Live.Clear();
            }
            foreach (KyClientHandle h in handles)
            {
                h.MarkDisposed();
                h.Dispose();
            }
        }
    }
}
