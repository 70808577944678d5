/**
 * Runs the last piece of work of a background part during `app.close()` and resolves when it
 * settles or when `timeoutMs` has passed, whichever comes first; never rejects (`onError` hears
 * a failure). Resolves `true` when the work settled in time.
 *
 * While it is pending, one ref'd timer keeps the process alive: the work's own timers and sockets
 * are unref'd (so they never hold a process between shutdowns), and without this timer Node would
 * exit in the middle of a pending `close()`. At the deadline `signal` aborts, with a
 * `ShutdownDeadlineError`, so the work can release what it still holds; nothing is kept alive past it.
 */
export function finishWithin(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<unknown>,
  onError: (error: unknown) => void = () => undefined,
): Promise<boolean> {
  const controller = new AbortController();
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (inTime: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (!inTime) controller.abort(new ShutdownDeadlineError(timeoutMs));
      resolve(inTime);
    };
    // Ref'd on purpose: this timer is what keeps the process alive while the work is pending.
    const deadline = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(work(controller.signal));
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      () => finish(true),
      (error: unknown) => {
        if (!settled) onError(error);
        finish(true);
      },
    );
  });
}

/** The abort reason of `finishWithin`'s signal once its deadline has passed. */
export class ShutdownDeadlineError extends Error {
  override readonly name = 'ShutdownDeadlineError';

  constructor(readonly timeoutMs: number) {
    super(`not finished within ${formatMs(timeoutMs)}`);
  }
}

/** A duration for a log line: whole milliseconds below 10 s, else seconds with one decimal. */
export function formatMs(ms: number): string {
  return ms < 10_000
    ? `${Math.round(ms)} ms`
    : `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
}

/**
 * Resolves after `ms` or as soon as `signal` aborts, whichever is first; never rejects. The timer
 * is unref'd: a wait between pushes never keeps a process alive (during a shutdown,
 * `finishWithin` does).
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
