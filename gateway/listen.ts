import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { PortInUseError } from './errors.ts';

/**
 * Listens with the given backlog: the connections the kernel completes and queues before the
 * process accepts them. Past it Linux drops handshakes, and resets those that stall too long.
 */
export function listen(
  server: Server,
  port: number,
  host: string,
  backlog: number,
  what: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(what, port) : err),
    );
    server.listen({ port, host, backlog }, () => resolve((server.address() as { port: number }).port));
  });
}

/** Linux's cap on every listen backlog (net.core.somaxconn), or null where it cannot be read. */
export function backlogCap(path = '/proc/sys/net/core/somaxconn'): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
