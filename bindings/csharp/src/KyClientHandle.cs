using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Ky
{
    /// <summary>
    /// Owns a native <c>ky_client*</c> and counts the calls using it. <see cref="CloseAndWait"/>
    /// refuses new calls, drops queued async calls, waits for the running ones and frees the
    /// client, so that when it returns the native client and its threads are gone. SafeHandle
    /// guarantees <c>ky_client_free</c> runs exactly once (also from the finalizer of an abandoned client).
    /// </summary>
    internal sealed class KyClientHandle : SafeHandle
    {
        internal KyClientHandle(IntPtr client) : base(IntPtr.Zero, true)
        {
            SetHandle(client);
        }

        private int disposed;
        private int calls;
        private readonly object drained = new object();

        // Calls the current thread is making on any client (a log callback that calls back into
        // the library, then disposes a client, must not wait for itself).
        [ThreadStatic] private static int callsOnThisThread;

        /// <summary>This client's asynchronous calls (set once, right after construction).</summary>
        internal AsyncCalls Async;

        /// <summary>Set when the client is disposed: every call that starts afterwards throws.</summary>
        internal bool IsDisposed
        {
            get { return Volatile.Read(ref disposed) != 0; }
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ky_client_free(handle);
            return true;
        }

        /// <summary>Starts a call; false if the client is disposed (nothing to undo then).</summary>
        internal bool TryEnter()
        {
            Interlocked.Increment(ref calls);
            // Read after the increment (a full fence): CloseAndWait writes the flag before it reads
            // the count, so either it sees this call or this call sees the flag.
            if (Volatile.Read(ref disposed) != 0)
            {
                Exit();
                return false;
            }
            callsOnThisThread++;
            return true;
        }

        /// <summary>Ends a call started by a successful <see cref="TryEnter"/>.</summary>
        internal void ExitCall()
        {
            callsOnThisThread--;
            Exit();
        }

        private void Exit()
        {
            if (Interlocked.Decrement(ref calls) == 0 && Volatile.Read(ref disposed) != 0)
            {
                lock (drained) Monitor.PulseAll(drained);
                // The last call out of a disposed client frees it (CloseAndWait may not wait: see there).
                Dispose();
            }
        }

        /// <summary>
        /// Refuses new calls, cancels queued async calls, waits for running calls to return (each
        /// is bounded by the client's timeout), then frees the native client. Called from a thread
        /// that is itself inside a call (a log callback disposing a client), it cannot wait for
        /// that call: the client is then freed when the last call returns. Idempotent.
        /// </summary>
        internal void CloseAndWait()
        {
            Volatile.Write(ref disposed, 1);
            AsyncCalls async = Async;
            if (async != null) async.Shutdown();
            if (callsOnThisThread == 0)
            {
                lock (drained)
                {
                    while (Volatile.Read(ref calls) != 0) Monitor.Wait(drained);
                }
            }
            if (Volatile.Read(ref calls) == 0) Dispose();
        }
    }

    /// <summary>
    /// One call on a KyClientHandle (<c>using (var lease = new HandleLease(h)) { ... lease.Pointer ... }</c>):
    /// throws ObjectDisposedException if the client is disposed, else keeps it from being freed until Dispose.
    /// </summary>
    internal struct HandleLease : IDisposable
    {
        private readonly KyClientHandle owner;
        private bool entered;

        internal HandleLease(KyClientHandle owner)
        {
            this.owner = owner;
            entered = owner.TryEnter();
            if (!entered) throw new ObjectDisposedException(typeof(KyClient).Name);
        }

        internal IntPtr Pointer
        {
            get { return owner.DangerousGetHandle(); }
        }

        public void Dispose()
        {
            if (entered)
            {
                entered = false;
                owner.ExitCall();
            }
        }
    }
}
