/** Where acknowledged readings go once they leave the outbox. */
export interface Sink {
  readonly name: string;
  /** Resolves only when the lines are durably accepted; rejects otherwise (nothing is dropped). */
  write(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
