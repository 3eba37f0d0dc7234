import { expect } from 'vitest';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import { ModbusDeviceSimulator } from '../../simulators/modbus-device.ts';
import type { TestGateway } from './gateway.ts';

/**
 * A real Modbus TCP peer with an electricity meter (unit 1) and a water station (unit 7), started,
 * and the two registered through the gateway's API under the given ids.
 */
export async function meterAndStation(
  gw: TestGateway,
  ids: { meter: string; station: string },
): Promise<ModbusDeviceSimulator> {
  const specs: ReadonlyMap<string, ModelSpec> = gw.gateway.ctx.specs;
  const sim = new ModbusDeviceSimulator({
    units: [
      { unitId: 1, spec: specs.get('sonmetrix-smx630')! },
      { unitId: 7, spec: specs.get('hydrotek-ps500')! },
    ],
  });
  await sim.start();
  for (const [id, model, unitId] of [
    [ids.meter, 'sonmetrix-smx630', 1],
    [ids.station, 'hydrotek-ps500', 7],
  ] as const) {
    const res = await gw.api('POST', '/api/devices', {
      id,
      model,
      firmware: Object.keys(specs.get(model)!.firmware)[0].replace('x', '0'),
      district: 'Hai Bà Trưng',
      ward: 'Bách Khoa',
      modbus: { host: '127.0.0.1', port: sim.port, unitId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.secret).toBeNull();
  }
  return sim;
}
