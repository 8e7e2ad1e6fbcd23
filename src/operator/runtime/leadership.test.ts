import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../platform/logging.ts';
import { Leadership, type TermCallbacks, type TermElector } from './leadership.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

/** An elector the test drives: lead(), lose(), and stop() as the real one behaves. */
function fakeTerms() {
  const terms: Array<{ cb: TermCallbacks; lead: () => void; lose: () => void }> = [];
  const newElector = (cb: TermCallbacks): TermElector => {
    let end: () => void = () => {};
    let leading = false;
    const ended = new Promise<void>((resolve) => (end = resolve));
    terms.push({
      cb,
      lead: () => {
        leading = true;
        cb.onNewLeader('me');
        cb.onStartedLeading();
      },
      lose: () => {
        leading = false;
        cb.onStoppedLeading('lost');
        end();
      },
    });
    return {
      run: () => ended,
      stop: async () => {
        if (leading) cb.onStoppedLeading('stopped');
        end();
        await ended;
      },
    };
  };
  return { terms, newElector };
}

describe('Leadership', () => {
  it('campaigns again after a lost lease, only once the old term’s work has stopped', async () => {
    const { terms, newElector } = fakeTerms();
    const events: string[] = [];
    let finishStepDown: () => void = () => {};
    const l = new Leadership({
      logger,
      newElector,
      lead: () => events.push('lead'),
      stepDown: () => {
        events.push('step-down');
        return new Promise<void>((resolve) => (finishStepDown = resolve));
      },
      onLost: 'campaign-again',
    });
    l.start();
    await vi.waitFor(() => expect(terms).toHaveLength(1));
    terms[0]!.lead();
    expect(l.status()).toEqual({ state: 'leading', holder: 'me' });
    terms[0]!.lose();
    await new Promise((r) => setTimeout(r, 20));
    expect(terms).toHaveLength(1); // the old term's work is still stopping
    expect(l.isLeading()).toBe(false);
    finishStepDown();
    await vi.waitFor(() => expect(terms).toHaveLength(2));
    expect(l.status()).toMatchObject({ state: 'campaigning', lost: { terms: 1 } });
    terms[1]!.lead();
    expect(events).toEqual(['lead', 'step-down', 'lead']);
    expect(l.status().lost).toBeUndefined();
    const stopping = l.stop();
    finishStepDown();
    await stopping;
    expect(l.status().state).toBe('stopped');
    expect(terms).toHaveLength(2);
  });

  it('hands a lost lease to onLost (the standalone operator exits), and a stop never does', async () => {
    const { terms, newElector } = fakeTerms();
    const onLost = vi.fn();
    const l = new Leadership({ logger, newElector, lead: () => {}, stepDown: async () => {}, onLost });
    l.start();
    await vi.waitFor(() => expect(terms).toHaveLength(1));
    terms[0]!.lead();
    terms[0]!.lose();
    await vi.waitFor(() => expect(onLost).toHaveBeenCalledTimes(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(terms).toHaveLength(1);

    const { terms: terms2, newElector: newElector2 } = fakeTerms();
    const onLost2 = vi.fn();
    const l2 = new Leadership({
      logger,
      newElector: newElector2,
      lead: () => {},
      stepDown: async () => {},
      onLost: onLost2,
    });
    l2.start();
    await vi.waitFor(() => expect(terms2).toHaveLength(1));
    terms2[0]!.lead();
    await l2.stop();
    expect(onLost2).not.toHaveBeenCalled();
    await l.stop();
  });
});
