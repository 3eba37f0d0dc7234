import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { GatewayApi, provisionDevices } from '../simulators/load/gateway-api.ts';
import type { ProvisionedDevice } from '../simulators/load/protocol.ts';
import { runLoad } from '../simulators/load/run.ts';
import { cityPlans, perFamilyOf } from '../simulators/load/scenario.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('the load generator against a real gateway and victoria-metrics', () => {
  let gw: TestGateway;
  let specs: ReadonlyMap<string, ModelSpec>;
  let devices: ProvisionedDevice[];
  let api: GatewayApi;

  beforeAll(async () => {
    gw = await startTestGateway({ influxUrl: inject('victoriaUrl') });
    specs = gw.gateway.ctx.specs;
    api = new GatewayApi(gw.httpUrl, gw.admin);
    const plans = cityPlans(specs, {
      perFamily: perFamilyOf(20),
      prefix: `lgtest${Date.now().toString(36)}`,
    });
    devices = await provisionDevices(api, plans);
  });
  afterAll(async () => gw?.stop());

  it('counts every QoS 1 reading it sent as acknowledged and stored, none lost', async () => {
    const report = await runLoad({
      mqttUrl: gw.mqttUrl,
      api,
      victoriaUrl: inject('victoriaUrl'),
      devices,
      specs,
      qos: 1,
      rate: 200,
      durationSeconds: 5,
      workers: 1,
      connectsPerSecond: 200,
      settleSeconds: 20,
      progress: false,
      log: () => {},
    });
    expect(report.connected).toBe(20);
    expect(report.connectionErrors).toBe(0);
    // 1,000 at the nominal pace; a loaded machine sent 880 once. The rate is the bench's to
    // measure; here what matters is that a real run's every reading is accounted for.
    expect(report.sent).toBeGreaterThanOrEqual(500);
    expect(report.acknowledged).toBe(report.sent);
    expect(report.stored).toBe(report.sent);
    expect(report.quarantined).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.latencyMs?.p99).toBeGreaterThan(0);
    // The gateway saw the same readings: its accepted counter agrees with the generator's count.
    const stats = await api.stats();
    expect(stats.accepted).toBeGreaterThanOrEqual(report.sent);
  }, 90_000);
});
