import { describe, expect, it } from 'vitest';
import { findCondition, setCondition } from './conditions.ts';

const t1 = new Date('2026-01-01T00:00:00.123Z');
const t2 = new Date('2026-01-02T00:00:00Z');

describe('setCondition', () => {
  it('adds a condition with the transition time in whole seconds', () => {
    const list = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: '' }, t1);
    expect(list).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ok',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  it('keeps the transition time when the status does not flip', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, t1);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, t2);
    expect(findCondition(second, 'Ready')).toMatchObject({
      reason: 'B',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
  });

  it('moves the transition time when the status flips', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: '' }, t1);
    const second = setCondition(first, { type: 'Ready', status: 'True', reason: 'A', message: '' }, t2);
    expect(findCondition(second, 'Ready')?.lastTransitionTime).toBe('2026-01-02T00:00:00Z');
  });

  it('leaves other conditions in place', () => {
    const list = setCondition(
      [{ type: 'Degraded', status: 'False', reason: 'X', message: '', lastTransitionTime: 'x' }],
      { type: 'Ready', status: 'True', reason: 'Ok', message: '' },
      t1,
    );
    expect(list.map((c) => c.type)).toEqual(['Degraded', 'Ready']);
  });
});
