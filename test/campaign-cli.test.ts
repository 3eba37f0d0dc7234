import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../firmware-specs/define-device.ts';
import { loadSpecs } from '../firmware-specs/index.ts';
import type { SimulatedDevice } from '../simulators/mqtt-device.ts';
import { runCli } from './helpers/cli.ts';
import { randomImage, sha256, startDevices } from './helpers/firmware.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let fleet: SimulatedDevice[] = [];
const image = randomImage(40_000);
let file: string;

beforeAll(async () => {
  gw = await startTestGateway();
  const specs = await loadSpecs();
  fleet = await startDevices(gw, specs.get('lumina-slc300') as ModelSpec, 12, {
    prefix: 'cli-ota',
    firmware: '2.1.0',
    ota: (i) => (i === 7 ? { checksumFailureRate: 1 } : undefined),
  });
  file = join(gw.dataDir, 'slc300-3.0.0.bin');
  writeFileSync(file, image);
});

afterAll(async () => {
  await Promise.all(fleet.map((d) => d.stop(200)));
  await gw?.stop();
});

const json = async (args: string[]) => {
  const r = await runCli(gw, [...args, '--json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
};

describe('citygate firmware and campaigns', () => {
  it('adds an image, runs a campaign and watches it to the end with a progress bar per group', async () => {
    const added = await json([
      'firmware',
      'add',
      file,
      '--version',
      '3.0.0',
      '--model',
      'lumina-slc300',
      '--from',
      '2.x',
    ]);
    expect(added).toMatchObject({
      version: '3.0.0',
      sha256: sha256(image),
      size: image.length,
      name: 'slc300-3.0.0.bin',
    });
    expect((await json(['firmware', 'list'])).artifacts.map((a: any) => a.id)).toEqual([added.id]);
    const c = await json([
      'campaigns',
      'create',
      '--artifact',
      added.id,
      '--name',
      'SLC-300 to 3.0.0',
      '--percent',
      '25,25,50',
      '--success',
      '80',
      '--error',
      '20',
      '--concurrency',
      '3',
    ]);
    expect(c.groups.map((g: any) => g.size)).toEqual([3, 3, 6]);
    const watched = await runCli(gw, ['campaigns', 'watch', c.id], { timeoutMs: 60_000 });
    expect(watched.code, watched.err).toBe(0);
    process.stdout.write(`\n--- citygate campaigns watch ${c.id}\n${watched.out}\n`);
    expect(watched.out).toMatch(/group 3 \[[█░]+\] 6\/6/);
    expect(watched.out).toMatch(/succeeded\n11 of 12 updated, 1 failed/);
    const shown = await json(['campaigns', 'show', c.id, '--devices']);
    expect(shown.status).toBe('succeeded');
    expect(shown.devices.find((d: any) => d.deviceId === 'cli-ota-007')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^checksum mismatch/),
    });
    expect((await json(['campaigns', 'list'])).campaigns.map((x: any) => x.id)).toContain(c.id);
    const text = await runCli(gw, ['campaigns', 'list']);
    expect(text.out).toMatch(
      new RegExp(`${c.id}\\s+SLC-300 to 3.0.0\\s+lumina-slc300\\s+3.0.0\\s+succeeded\\s+3\\s+11/12\\s+1`),
    );
  });

  it('pauses, resumes and aborts from the command line, and says why it cannot', async () => {
    const artifact = await json([
      'firmware',
      'add',
      file,
      '--version',
      '3.1.0',
      '--model',
      'lumina-slc300',
      '--from',
      '3.0.0',
    ]);
    await Promise.all(fleet.map((d) => d.stop(200))); // offline: commands wait queued
    const c = await json([
      'campaigns',
      'create',
      '--artifact',
      artifact.id,
      '--name',
      'later',
      '--sizes',
      '4',
    ]);
    expect((await json(['campaigns', 'pause', c.id])).status).toBe('paused');
    expect((await json(['campaigns', 'resume', c.id])).status).toBe('running');
    const aborted = await json(['campaigns', 'abort', c.id]);
    expect(aborted.status).toBe('aborted');
    const again = await runCli(gw, ['campaigns', 'resume', c.id]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/409 campaign .* is aborted: it cannot be resumed/);
    const bad = await runCli(gw, [
      'firmware',
      'add',
      file,
      '--version',
      'x',
      '--model',
      'lumina-slc300',
      '--from',
      '2.x',
    ]);
    expect(bad.err).toMatch(/400 querystring.version/);
  }, 120_000);
});
