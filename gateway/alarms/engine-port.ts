import type { z } from 'zod';
import type { Device } from '../../device-registry/devices.ts';
import type { ModelSpec } from '../../firmware-specs/define-device.ts';
import type { Family } from '../../firmware-specs/families.ts';
import type { Clock } from '../clock.ts';
import type { AlarmSignal, Severity } from './types.ts';

/*
 * What the alarm service needs of the rule engine (the seam of issue 9 between the engine,
 * gateway/alarms/engine.ts and rules.ts, and this service). The service depends on these shapes
 * only, so it is tested against a small fake and the engine is plugged in by buildGateway.
 */

/** The fields of a rule the service shows; the engine's rules carry more (conditions, delays). */
export interface RuleInfo {
  id: string;
  family: Family;
  severity: Severity;
  description: string;
}

export interface RuleOverride {
  scope: 'model' | 'district' | 'device';
  key: string;
  ruleId: string;
  enabled?: boolean;
  severity?: Severity;
}

export interface EngineOptions<R extends RuleInfo = RuleInfo> {
  clock: Clock;
  rulesFor(device: Device): readonly R[];
  onSignal(signal: AlarmSignal): void;
  desiredState?(deviceId: string): Record<string, unknown> | null;
}

export interface AlarmEnginePort {
  reading(device: Device, fields: Record<string, unknown>, ts: number): void;
  presence(device: Device, online: boolean, at: number): void;
  restore(active: ReadonlyArray<{ deviceId: string; ruleId: string }>): void;
  invalidate(deviceId?: string): void;
  stats(): { chattering: number };
  stop(): void;
}

/** The rule engine and its rule book, as buildGateway hands them to the alarms module. */
export interface AlarmRules<R extends RuleInfo = RuleInfo> {
  createEngine(opts: EngineOptions<R>): AlarmEnginePort;
  defaultRules(family: Family): readonly R[];
  effectiveRules(device: Device, spec: ModelSpec, overrides: readonly RuleOverride[]): R[];
  ruleOverrideSchema: z.ZodType<RuleOverride>;
  /** What the schema cannot see (a param the rule does not have), as paths into the override. */
  overrideProblems?(o: RuleOverride): Array<{ path: string; message: string }>;
}
