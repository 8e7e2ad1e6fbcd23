import { describe, expect, it } from 'vitest';
import { WorkQueue, type QueueItem } from './queue.ts';
import { ExponentialRateLimiter } from './rate-limiter.ts';
import { FakeClock } from '../../../test/support/fake-clock.ts';

function setup() {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, rateLimiter: new ExponentialRateLimiter(5, 1000) });
  return { clock, queue };
}

/** Resolves to the key if one was handed out by now, or 'none' if the getter is still blocked. */
async function settled(get: Promise<QueueItem | undefined>): Promise<string | undefined> {
  const item = await Promise.race([get, new Promise<'none'>((r) => setImmediate(() => r('none')))]);
  return item === 'none' ? 'none' : item?.key;
}

describe('WorkQueue', () => {
  it('a key added twice while queued is processed once', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth).toBe(2);
    expect((await queue.get())?.key).toBe('a');
    expect((await queue.get())?.key).toBe('b');
    expect(await settled(queue.get())).toBe('none');
  });

  it('hands keys out in the order they were added', async () => {
    const { queue } = setup();
    for (const key of ['c', 'a', 'b']) queue.add(key);
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push((await queue.get())?.key);
    expect(keys).toEqual(['c', 'a', 'b']);
  });

  it('a key added while processing waits until done, then is handed out exactly once more', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.depth).toBe(0);
    const second = queue.get();
    expect(await settled(second)).toBe('none');

    queue.done('a');
    expect(await settled(second)).toBe('a');
    queue.done('a');
    expect(await settled(queue.get())).toBe('none');
  });

  it('a key that is not re-added while processing is not handed out again', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.done('a');
    expect(queue.depth).toBe(0);
    expect(await settled(queue.get())).toBe('none');
  });

  it('a blocked getter receives the next key added, getters in the order they asked', async () => {
    const { queue } = setup();
    const first = queue.get();
    const second = queue.get();
    queue.add('a');
    queue.add('b');
    expect(await settled(first)).toBe('a');
    expect(await settled(second)).toBe('b');
  });

  it('records how long a key waited from its add to being handed out', async () => {
    const { clock, queue } = setup();
    queue.add('a');
    clock.advance(250);
    expect(await queue.get()).toEqual({ key: 'a', waitedMs: 250 });

    clock.advance(100);
    queue.add('a'); // re-added while processing, at t=350
    clock.advance(200);
    queue.done('a');
    expect(await queue.get()).toEqual({ key: 'a', waitedMs: 200 });
  });

  it('addAfter adds the key only once the delay has passed', () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 100);
    clock.advance(99);
    expect(queue.depth).toBe(0);
    clock.advance(1);
    expect(queue.depth).toBe(1);
  });

  it('addAfter with no delay adds at once', () => {
    const { queue } = setup();
    queue.addAfter('a', 0);
    expect(queue.depth).toBe(1);
  });

  it('a shorter addAfter replaces a pending longer one', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 100);
    queue.addAfter('a', 10);
    clock.advance(10);
    expect(queue.depth).toBe(1);
    queue.done((await queue.get())!.key);
    clock.advance(90);
    expect(queue.depth).toBe(0);
    expect(clock.timers.size).toBe(0);
  });

  it('a longer addAfter does not postpone a pending shorter one', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 10);
    queue.addAfter('a', 100);
    clock.advance(10);
    expect(queue.depth).toBe(1);
    queue.done((await queue.get())!.key);
    clock.advance(90);
    expect(queue.depth).toBe(0);
  });

  it('addRateLimited waits longer on each call, and forget starts the backoff over', async () => {
    const { clock, queue } = setup();
    /** Milliseconds until the rate-limited add lands, then takes the key out again. */
    const delayOfNextAdd = async (): Promise<number> => {
      const before = clock.time;
      queue.addRateLimited('a');
      while (queue.depth === 0 && clock.time - before < 1000) clock.advance(1);
      queue.done((await queue.get())!.key);
      return clock.time - before;
    };
    expect(await delayOfNextAdd()).toBe(5);
    expect(await delayOfNextAdd()).toBe(10);
    expect(await delayOfNextAdd()).toBe(20);
    queue.forget('a');
    expect(await delayOfNextAdd()).toBe(5);
  });

  it('shutDown releases blocked getters with undefined and drops delayed adds', async () => {
    const { clock, queue } = setup();
    const blocked = queue.get();
    queue.addAfter('a', 10);
    queue.shutDown();
    expect(await blocked).toBeUndefined();
    expect(clock.timers.size).toBe(0);
    clock.advance(10);
    expect(queue.depth).toBe(0);
  });

  it('after shutDown, get returns undefined and adds are ignored, even with keys waiting', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.shutDown();
    queue.add('b');
    queue.addAfter('c', 5);
    queue.addRateLimited('d');
    expect(queue.depth).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('a key re-added while processing is not handed out after shutDown', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.shutDown();
    queue.done('a');
    expect(queue.depth).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });
});
