import type { Clock } from '../../src/operator/runtime/queue.ts';

/** A Clock whose time moves only when the test says so; due timers fire in deadline order. */
export class FakeClock implements Clock {
  time = 0;
  readonly timers = new Set<{ at: number; fn: () => void }>();
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }
  advance(ms: number): void {
    this.time += ms;
    const due = [...this.timers].filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    for (const timer of due) {
      this.timers.delete(timer);
      timer.fn();
    }
  }
}
