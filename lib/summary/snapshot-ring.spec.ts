import { describe, expect, it } from '@jest/globals';
import { RING_STEPS, SnapshotRing } from './snapshot-ring.js';

/** A clock the test moves by hand, in ms. */
function clock(start = 0) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
  };
}

describe('SnapshotRing', () => {
  it('uses the origin while the app is younger than the window', () => {
    const time = clock();
    const ring = new SnapshotRing(10_000, { at: 0, value: 'origin' }, time.now);
    time.advance(4_000);
    ring.offer('at 4 s');
    time.advance(3_000);
    expect(ring.baseline()).toEqual({ at: 0, value: 'origin' });
  });

  it('drops snapshots once older than the window: the baseline is the oldest inside it', () => {
    const time = clock();
    const ring = new SnapshotRing(10_000, { at: 0, value: 0 }, time.now);
    for (let second = 1; second <= 25; second++) {
      time.advance(1_000);
      ring.offer(second);
    }
    // At 25 s the window starts at 15 s.
    expect(ring.baseline()).toEqual({ at: 15_000, value: 15 });
    time.advance(500);
    expect(ring.baseline()).toEqual({ at: 16_000, value: 16 });
  });

  it('keeps at most one snapshot per step, so never more than RING_STEPS + 1', () => {
    const time = clock();
    const ring = new SnapshotRing(10_000, { at: 0, value: 0 }, time.now);
    expect(ring.stepMs).toBe(1_000);
    for (let i = 1; i <= 1_000; i++) {
      time.advance(100);
      ring.offer(i);
      expect(ring.size).toBeLessThanOrEqual(RING_STEPS + 1);
    }
    // Offers 100 ms apart: only every tenth was kept.
    expect(ring.baseline()).toEqual({ at: 90_000, value: 900 });
  });

  it('has no baseline after a pause longer than the window without snapshots', () => {
    const time = clock();
    const ring = new SnapshotRing(10_000, { at: 0, value: 0 }, time.now);
    time.advance(60_000);
    expect(ring.baseline()).toBeUndefined();
    ring.offer(1);
    expect(ring.baseline()).toEqual({ at: 60_000, value: 1 });
  });
});
