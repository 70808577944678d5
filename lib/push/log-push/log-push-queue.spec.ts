import { RecordQueue } from './log-push-queue.js';
import { backoffMs } from './log-push.sink.js';

describe('RecordQueue', () => {
  it('is first in, first out across pushes, drops and takes', () => {
    const queue = new RecordQueue<number>();
    for (let i = 0; i < 5; i++) queue.push(i, 100 + i);
    expect(queue.oldestQueuedAt).toBe(100);
    expect(queue.dropOldest()).toBe(true);
    expect(queue.take(2)).toEqual([1, 2]);
    expect(queue.oldestQueuedAt).toBe(103);
    queue.push(5, 105);
    expect(queue.take(10)).toEqual([3, 4, 5]);
    expect(queue.length).toBe(0);
    expect(queue.oldestQueuedAt).toBeUndefined();
    expect(queue.dropOldest()).toBe(false);
  });

  it('keeps its order through the compaction of a long run', () => {
    const queue = new RecordQueue<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) queue.push(next++, 0);
      for (let i = 0; i < 60; i++) queue.dropOldest();
      expected += 60;
      expect(queue.take(1)).toEqual([expected]);
      expected += 1;
    }
    expect(queue.length).toBe(next - expected);
    expect(queue.take(1)).toEqual([expected]);
  });
});

describe('backoffMs', () => {
  it('doubles from 500 ms per failed attempt, caps at maxBackoffSeconds, with equal jitter', () => {
    const lowest = () => 0;
    const highest = () => 1;
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 30, lowest))).toEqual([
      250, 500, 1000, 2000, 4000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 30, highest))).toEqual([
      500, 1000, 2000, 4000, 8000,
    ]);
    expect(backoffMs(20, 30, highest)).toBe(30_000);
    expect(backoffMs(20, 30, lowest)).toBe(15_000);
    expect(backoffMs(3, 0.5, highest)).toBe(500);
  });
});
