/**
 * Runs tasks one after another per key, and tasks of different keys concurrently: the steps of one
 * alarm (device and rule) reach the store in the order they were signalled, so a clear never
 * overtakes the raise it clears, while other alarms do not wait for it; a campaign's changes apply
 * one after another. A task that fails does not stop the ones queued after it.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(task, task);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    // The last task of a key forgets it, so the map holds only keys with work queued.
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    while (this.#tails.size) await Promise.all(this.#tails.values());
  }
}
