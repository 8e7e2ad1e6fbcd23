/**
 * A bounded FIFO of samples waiting for the manager. When full, the oldest samples go first (the
 * newest are the likeliest to land in a period not yet invoiced); every dropped sample is counted.
 */
export class SampleBuffer<T> {
  readonly #capacity: number;
  readonly #onDrop: (n: number) => void;
  #items: T[] = [];

  constructor(capacity: number, onDrop: (n: number) => void) {
    this.#capacity = capacity;
    this.#onDrop = onDrop;
  }

  get size(): number {
    return this.#items.length;
  }

  push(items: readonly T[]): void {
    this.#items.push(...items);
    const over = this.#items.length - this.#capacity;
    if (over > 0) {
      this.#items.splice(0, over);
      this.#onDrop(over);
    }
  }

  /** The oldest `n` samples, still buffered until `commit`. */
  peek(n: number): T[] {
    return this.#items.slice(0, n);
  }

  /** Removes the first `n` samples (after they were delivered or rejected). */
  commit(n: number): void {
    this.#items.splice(0, n);
  }
}
