import {
  finishWithin,
  formatMs,
  pause,
  ShutdownDeadlineError,
} from './bounded-shutdown.js';

describe('finishWithin', () => {
  it('resolves true once the work settles, with the signal never aborted', async () => {
    let signal: AbortSignal | undefined;
    const inTime = await finishWithin(60_000, async (s) => {
      signal = s;
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(inTime).toBe(true);
    expect(signal!.aborted).toBe(false);
  });

  it('resolves false at the deadline when the work never settles, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const inTime = await finishWithin(10, (s) => {
      signal = s;
      return new Promise(() => undefined);
    });
    expect(inTime).toBe(false);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(ShutdownDeadlineError);
    expect((signal!.reason as Error).message).toBe('not finished within 10 ms');
  });

  it('never rejects: a failure, thrown or rejected, goes to onError once', async () => {
    const heard: unknown[] = [];
    const boom = new Error('boom');
    await expect(
      finishWithin(
        60_000,
        () => {
          throw boom;
        },
        (error) => heard.push(error),
      ),
    ).resolves.toBe(true);
    await expect(
      finishWithin(
        60_000,
        () => Promise.reject(boom),
        (error) => heard.push(error),
      ),
    ).resolves.toBe(true);
    expect(heard).toEqual([boom, boom]);
  });
});

describe('pause', () => {
  it('ends at once when its signal aborts', async () => {
    const controller = new AbortController();
    const paused = pause(60_000, controller.signal);
    controller.abort();
    await expect(paused).resolves.toBeUndefined();
  });
});

describe('formatMs', () => {
  it.each<[number, string]>([
    [4999.942895, '5000 ms'],
    [0.4, '0 ms'],
    [1999.6, '2000 ms'],
    [15_000, '15.0 s'],
    [12_345.6, '12.3 s'],
  ])('%p ms reads %p', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});
