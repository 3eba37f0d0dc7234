import { createHash, randomBytes } from 'node:crypto';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { SimulatedDevice } from '../../simulators/mqtt-device.ts';
import type { OtaFaults } from '../../simulators/ota-update.ts';
import type { TestGateway } from './gateway.ts';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** POST /api/firmware with the image as the body. */
export async function uploadFirmware(
  gw: TestGateway,
  image: Buffer,
  meta: { model: string; version: string; from: string; sha256?: string; name?: string },
  token = gw.admin,
): Promise<{ status: number; body: any }> {
  const q = new URLSearchParams({
    model: meta.model,
    version: meta.version,
    from: meta.from,
    sha256: meta.sha256 ?? sha256(image),
    ...(meta.name !== undefined && { name: meta.name }),
  });
  const res = await fetch(`${gw.httpUrl}/api/firmware?${q}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(image),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export const randomImage = (bytes: number) => randomBytes(bytes);

/**
 * Registers and starts `n` simulated MQTT devices of one model and firmware, ids `${prefix}-000`…
 * (so their campaign order is their number). Telemetry every `intervalMs` (default one minute).
 */
export async function startDevices(
  gw: TestGateway,
  spec: ModelSpec,
  n: number,
  opts: {
    prefix: string;
    firmware: string;
    intervalMs?: number;
    ota?: (i: number) => OtaFaults | undefined;
    start?: boolean;
    district?: string;
  },
): Promise<SimulatedDevice[]> {
  const devices: SimulatedDevice[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${opts.prefix}-${String(i).padStart(3, '0')}`;
    const { secret } = await gw.register({
      id,
      model: spec.id,
      firmware: opts.firmware,
      ...(opts.district && { district: opts.district }),
    });
    devices.push(
      new SimulatedDevice({
        id,
        spec,
        firmware: opts.firmware,
        url: gw.mqttUrl,
        secret,
        qos: 1,
        intervalMs: opts.intervalMs ?? 60_000,
        reconnectPeriod: 200,
        ota: { rebootMs: 100, ...opts.ota?.(i) },
      }),
    );
  }
  if (opts.start ?? true) await Promise.all(devices.map((d) => d.start()));
  return devices;
}
