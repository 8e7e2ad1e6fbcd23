import { describe, expect, it } from 'vitest';
import { SampleBuffer } from './buffer.ts';

describe('sample buffer', () => {
  it('keeps samples until they are committed, oldest first', () => {
    const b = new SampleBuffer<number>(10, () => {});
    b.push([1, 2, 3]);
    expect(b.peek(2)).toEqual([1, 2]);
    expect(b.size).toBe(3);
    b.commit(2);
    expect(b.peek(5)).toEqual([3]);
  });

  it('drops the oldest samples beyond its capacity and counts them', () => {
    let dropped = 0;
    const b = new SampleBuffer<number>(3, (n) => (dropped += n));
    b.push([1, 2]);
    b.push([3, 4, 5]);
    expect(b.peek(10)).toEqual([3, 4, 5]);
    expect(dropped).toBe(2);
  });
});
