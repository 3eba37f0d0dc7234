import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures as Stripe and GitHub make them: HMAC-SHA256 over `<timestamp>.<body>`, sent as
 * `X-Citygate-Signature: sha256=<hex>` with `X-Citygate-Timestamp: <unix seconds>`. Signing the
 * timestamp lets a receiver refuse a replayed request older than its tolerance.
 */
export const SIGNATURE_HEADER = 'x-citygate-signature';
export const TIMESTAMP_HEADER = 'x-citygate-timestamp';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute, compare in constant time, and bound the age (default 5 minutes). */
export function verifyWebhook(
  secret: string,
  signature: string | undefined,
  timestamp: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(timestamp);
  if (!signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
