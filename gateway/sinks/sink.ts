/** Line protocol waiting in the outbox: newline-separated lines, and how many. */
export interface LineBatch {
  text: string;
  count: number;
}

/** Where acknowledged readings go once they leave the outbox. */
export interface Sink {
  readonly name: string;
  /** Resolves only when the lines are durably accepted; rejects otherwise (nothing is dropped). */
  write(batch: LineBatch): Promise<void>;
  close(): Promise<void>;
}
