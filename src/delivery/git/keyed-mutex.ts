/**
 * Serialises work per key inside this process: two Apps using one repository never run git on its
 * cache at the same time (concurrent fetches into one repository race on its lock files and the
 * `shallow` file), while different repositories proceed in parallel. FIFO per key; a failed task
 * does not block the next one. Keys are forgotten when their queue empties.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with a task running or waiting (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
