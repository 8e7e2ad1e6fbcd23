import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('keyed mutex', () => {
  it('runs tasks for one key one at a time, in order, and other keys in parallel', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    let max = 0;
    const task = (name: string) => async () => {
      running++;
      max = Math.max(max, running);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running--;
    };
    await Promise.all([m.run('a', task('a1')), m.run('a', task('a2')), m.run('a', task('a3'))]);
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    expect(max).toBe(1);
    max = 0;
    await Promise.all([m.run('a', task('x')), m.run('b', task('y'))]);
    expect(max).toBe(2);
    expect(m.size).toBe(0);
  });

  it('lets the next task run after one fails', async () => {
    const m = new KeyedMutex();
    const failed = m.run('a', async () => {
      throw new Error('boom');
    });
    const next = m.run('a', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
