using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Ky
{
    /// <summary>
    /// Owns a native <c>ky_client*</c>. SafeHandle reference counting guarantees that
    /// <c>ky_client_free</c> runs exactly once, and only after every native call that did
    /// DangerousAddRef has released it, so Dispose racing a call cannot free the client under it.
    /// </summary>
    internal sealed class KyClientHandle : SafeHandle
    {
        internal KyClientHandle(IntPtr client) : base(IntPtr.Zero, true)
        {
            SetHandle(client);
        }

        private int disposed;

        /// <summary>
        /// Set by KyClient.Dispose before it disposes the handle. Mono's SafeHandle, unlike
        /// CoreCLR's, keeps accepting DangerousAddRef after Dispose while any call holds a
        /// reference, so under steady load a disposed client would never refuse calls (nor be
        /// freed); this flag makes every call that starts after Dispose throw on all runtimes.
        /// </summary>
        internal bool IsDisposed
        {
            get { return Volatile.Read(ref disposed) != 0; }
        }

        internal void MarkDisposed()
        {
            Volatile.Write(ref disposed, 1);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            // Cancels queued async calls and waits for running ones, so no callback runs afterwards.
            NativeMethods.ky_client_free(handle);
            return true;
        }
    }

    /// <summary>
    /// Holds a reference on a KyClientHandle for the duration of a native call
    /// (<c>using (var lease = new HandleLease(h)) { ... lease.Pointer ... }</c>).
    /// </summary>
    internal struct HandleLease : IDisposable
    {
        private readonly KyClientHandle owner;
        private bool added;

        internal HandleLease(KyClientHandle owner)
        {
            this.owner = owner;
            added = false;
            try
            {
                owner.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                throw new ObjectDisposedException(typeof(KyClient).Name);
            }
            // Checked after taking the reference: a Dispose that set the flag before this point is
            // seen here; one that comes later only defers the free until this call releases.
            if (owner.IsDisposed)
            {
                owner.DangerousRelease();
                added = false;
                throw new ObjectDisposedException(typeof(KyClient).Name);
            }
        }

        internal IntPtr Pointer
        {
            get { return owner.DangerousGetHandle(); }
        }

        public void Dispose()
        {
            if (added)
            {
                added = false;
                owner.DangerousRelease();
            }
        }
    }
}
