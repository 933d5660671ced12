using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Ky
{
    /// <summary>
    /// GetAsync for one client, run on the binding's own managed threads: at most
    /// <see cref="MaxWorkers"/> background threads per client, started on demand and ended after
    /// <see cref="IdleExit"/> without work, each making the blocking native get. The library's own
    /// async workers (<c>ky_client_get_access_token_async</c>) are not used: their callback would
    /// run managed code on native threads, which Mono kills when the AppDomain unloads (a Unity
    /// domain reload) and which hang Mono's exit if they first enter managed code during shutdown.
    /// Managed threads are what Mono knows how to stop. See README.md, "AppDomains and Unity domain reloads".
    /// </summary>
    internal sealed class AsyncCalls
    {
        /// <summary>Threads per client: a slow fetch for one program does not hold up hits for others.</summary>
        internal const int MaxWorkers = 4;
        /// <summary>Calls waiting for a thread; more fail with KyBusyException.</summary>
        internal const int MaxQueued = 4096;
        private static readonly TimeSpan IdleExit = TimeSpan.FromSeconds(2);
        private static readonly Action<object> CancelCallback = OnCancel;

        private sealed class Call
        {
            // Continuations never run on a worker: it would hold one of the client's threads, and a
            // continuation disposing the client would wait for the call it is running in.
            internal readonly TaskCompletionSource<string> Source =
                new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            internal byte[] ProgramId;
            internal CancellationToken Cancellation;
            internal CancellationTokenRegistration Registration;
        }

        private readonly KyClientHandle handle;
        private readonly object gate = new object();
        private readonly Queue<Call> queue = new Queue<Call>();
        private int workers;
        private int idle;
        private bool closing;

        internal AsyncCalls(KyClientHandle handle)
        {
            this.handle = handle;
        }

        internal Task<string> Submit(byte[] programId, CancellationToken ct)
        {
            if (ct.IsCancellationRequested) return Task.FromCanceled<string>(ct);
            var call = new Call { ProgramId = programId, Cancellation = ct };
            if (ct.CanBeCanceled) call.Registration = ct.Register(CancelCallback, call);
            Exception refused = null;
            lock (gate)
            {
                if (closing)
                    refused = new ObjectDisposedException(typeof(KyClient).Name);
                else if (queue.Count >= MaxQueued)
                    refused = new KyBusyException(MaxQueued + " asynchronous calls are already queued on this client");
                else
                {
                    queue.Enqueue(call);
                    if (idle > 0) Monitor.Pulse(gate);
                    else if (workers < MaxWorkers) refused = StartWorker();
                }
            }
            if (refused != null)
            {
                call.Registration.Dispose();
                if (refused is ObjectDisposedException) throw refused;
                call.Source.TrySetException(refused);
            }
            return call.Source.Task;
        }

        // Under gate. Null when a worker started or one is already running to take the call.
        private Exception StartWorker()
        {
            try
            {
                var thread = new Thread(Work) { IsBackground = true, Name = "ky-cs-async" };
                thread.Start();
                workers++;
                return null;
            }
            catch (Exception e)
            {
                if (workers > 0) return null; // the running ones will get to it
                // No worker at all: the queue holds only the call being submitted (any earlier one
                // either had a worker or was removed like this), which Submit fails with this.
                queue.Clear();
                return new KyException(KyStatus.Internal, "cannot start a thread for GetAsync: " + e.Message);
            }
        }

        /// <summary>Refuses new calls and fails the queued ones with KyCancelledException; running ones finish.</summary>
        internal void Shutdown()
        {
            Call[] dropped;
            lock (gate)
            {
                closing = true;
                dropped = queue.ToArray();
                queue.Clear();
                Monitor.PulseAll(gate);
            }
            foreach (Call call in dropped)
            {
                call.Registration.Dispose();
                call.Source.TrySetException(new KyCancelledException("the client was disposed before this call ran"));
            }
        }

        private void Work()
        {
            while (true)
            {
                Call call;
                lock (gate)
                {
                    while (queue.Count == 0)
                    {
                        if (closing)
                        {
                            workers--;
                            return;
                        }
                        idle++;
                        bool woken = Monitor.Wait(gate, IdleExit);
                        idle--;
                        if (!woken && queue.Count == 0)
                        {
                            workers--;
                            return;
                        }
                    }
                    call = queue.Dequeue();
                }
                Run(call);
            }
        }

        private void Run(Call call)
        {
            // Cancelled while queued: no fetch at all.
            if (call.Source.Task.IsCompleted)
            {
                call.Registration.Dispose();
                return;
            }
            if (!handle.TryEnter())
            {
                call.Registration.Dispose();
                call.Source.TrySetException(new KyCancelledException("the client was disposed before this call ran"));
                return;
            }
            try
            {
                // The Task completes before the call ends, so when Dispose returns every call it
                // waited for has its result.
                call.Source.TrySetResult(TokenCalls.Get(handle.DangerousGetHandle(), call.ProgramId));
            }
            catch (Exception e)
            {
                // Includes the ThreadAbortException of a domain unload (rethrown after this block).
                call.Source.TrySetException(e);
            }
            finally
            {
                call.Registration.Dispose();
                handle.ExitCall();
            }
        }

        private static void OnCancel(object state)
        {
            var call = (Call)state;
            // A running native get goes on (and caches its token); a queued one is skipped.
            call.Source.TrySetCanceled(call.Cancellation);
        }
    }
}
