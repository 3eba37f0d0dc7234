import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_COST } from '../device-registry/secrets.ts';
import { connectPacket } from '../simulators/mqtt-bytes.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { rawConnect } from './helpers/raw-mqtt.ts';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

describe('refusal time does not tell which device ids exist (issue 8, row 13)', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => gw?.stop());

  it('refuses an unknown id about as slowly as a known id with a wrong secret', async () => {
    // New secrets are SHA-256 (issue 12), and so is the dummy hash an unknown id is checked against.
    const g = await startTestGateway({
      secretCost: DEFAULT_SCRYPT_COST,
      // Only the timing is under test here: the throttle would refuse both at once, soon.
      config: { AUTH_FAILURES_BEFORE_BACKOFF: 10_000, AUTH_FAILURES_BEFORE_BAN: 10_000 },
    });
    gw = g;
    const known = await g.register({ model: 'lumina-slc300', firmware: '1.0.0' });
    const port = g.gateway.mqttPort;
    const knownWrong = connectPacket({ clientId: known.id, username: known.id, password: 'wrong' });
    const unknown = connectPacket({
      clientId: 'no-such-device',
      username: 'no-such-device',
      password: 'wrong',
    });

    const times = { known: [] as number[], unknown: [] as number[] };
    // Interleaved, one at a time, so that both see the same machine.
    for (let i = 0; i < 15; i++) {
      const k = await rawConnect(port, knownWrong);
      const u = await rawConnect(port, unknown);
      expect([k.returnCode, u.returnCode]).toEqual([4, 4]);
      times.known.push(k.ms);
      times.unknown.push(u.ms);
    }
    const m = { known: median(times.known), unknown: median(times.unknown) };
    console.log(`median refusal: known id ${m.known.toFixed(1)} ms, unknown id ${m.unknown.toFixed(1)} ms`);
    expect(m.unknown).toBeGreaterThan(m.known / 2);
    expect(m.unknown).toBeLessThan(m.known * 2);
  }, 60_000);
});
