import type { DevicePlan } from '../hanoi.ts';
import type { ProvisionedDevice } from './protocol.ts';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

/** The gateway's HTTP API with a bearer token (none when empty); used by the CLI, the demo, the load tools and the tests. */
export class GatewayApi {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async call<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as T };
  }

  /** POST /api/devices for a planned device; returns its MQTT secret (null for Modbus devices). */
  async register(
    plan: DevicePlan,
    modbus?: { host: string; port: number; unitId: number },
  ): Promise<string | null> {
    const res = await this.call<{ secret: string | null }>('POST', '/api/devices', {
      id: plan.id,
      model: plan.model,
      firmware: plan.firmware,
      district: plan.district,
      ward: plan.ward,
      lat: plan.lat,
      lon: plan.lon,
      tags: plan.tags,
      ...(modbus && { modbus }),
    });
    if (res.status !== 201)
      throw new Error(`registering ${plan.id}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.secret;
  }

  async stats(): Promise<GatewayStats> {
    const res = await this.call<GatewayStats>('GET', '/api/stats');
    if (res.status !== 200) throw new Error(`GET /api/stats: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

export interface GatewayStats {
  received: number;
  accepted: number;
  quarantined: number;
  buffered: number;
  written: number;
  dropped: number;
  connectionsRefused: number;
  aclDenied: number;
  connectedDevices: number;
  devices: number;
}

/**
 * Registers the devices through POST /api/devices, `concurrency` requests at a time (the secret
 * hash is the slow part), and returns them with their secrets. Devices already known (`known`,
 * e.g. from an earlier run) are not registered again.
 */
export async function provisionDevices(
  api: GatewayApi,
  plans: readonly DevicePlan[],
  opts: {
    concurrency?: number;
    known?: ReadonlyMap<string, string>;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<ProvisionedDevice[]> {
  const out: ProvisionedDevice[] = new Array(plans.length);
  let next = 0;
  let done = 0;
  const one = async (): Promise<void> => {
    while (next < plans.length) {
      const i = next++;
      const plan = plans[i];
      const known = opts.known?.get(plan.id);
      if (known) {
        out[i] = { ...plan, secret: known };
      } else {
        out[i] = { ...plan, secret: (await api.register(plan))! };
      }
      done++;
      if (done % 250 === 0 || done === plans.length) opts.onProgress?.(done, plans.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, plans.length) }, one));
  return out;
}
