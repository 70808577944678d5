import { describe, expect, it } from '@jest/globals';
import { bucketIncrease, histogramQuantile } from './histogram-quantile.js';

const buckets = (pairs: Array<[number, number]>) =>
  pairs.map(([le, count]) => ({ le, count }));

describe('histogramQuantile', () => {
  const sample = buckets([
    [0.1, 10],
    [0.5, 30],
    [1, 40],
    [Infinity, 50],
  ]);

  it('interpolates inside the bucket the rank falls in', () => {
    // rank 25 of 50: 15 of the 20 observations in (0.1, 0.5]
    expect(histogramQuantile(0.5, sample)).toBeCloseTo(0.1 + 0.4 * (15 / 20));
    // rank 5: half of the first bucket, which starts at 0
    expect(histogramQuantile(0.1, sample)).toBeCloseTo(0.05);
  });

  it('answers the last finite bound when the rank falls in +Inf', () => {
    expect(histogramQuantile(0.99, sample)).toBe(1);
  });

  it('is NaN without observations or without a +Inf bucket, ±Inf outside [0, 1]', () => {
    expect(
      histogramQuantile(
        0.5,
        buckets([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNaN();
    expect(histogramQuantile(0.5, buckets([[1, 3]]))).toBeNaN();
    expect(histogramQuantile(-0.1, sample)).toBe(-Infinity);
    expect(histogramQuantile(1.1, sample)).toBe(Infinity);
  });

  it('makes counts monotonic as Prometheus does', () => {
    const bumpy = buckets([
      [1, 10],
      [2, 8],
      [Infinity, 10],
    ]);
    expect(histogramQuantile(0.5, bumpy)).toBeCloseTo(0.5);
  });
});

describe('bucketIncrease', () => {
  it('subtracts an earlier reading bucket by bucket', () => {
    expect(
      bucketIncrease(
        buckets([
          [1, 5],
          [Infinity, 9],
        ]),
        buckets([
          [1, 2],
          [Infinity, 3],
        ]),
      ),
    ).toEqual(
      buckets([
        [1, 3],
        [Infinity, 6],
      ]),
    );
  });

  it('reads a reset series as the later reading alone', () => {
    const later = buckets([
      [1, 1],
      [Infinity, 1],
    ]);
    expect(
      bucketIncrease(
        later,
        buckets([
          [1, 4],
          [Infinity, 4],
        ]),
      ),
    ).toEqual(later);
  });
});
