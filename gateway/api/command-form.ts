import { z } from 'zod';
import type { CommandSpec } from '../../firmware-specs/define-device.ts';

/**
 * One param of a command as a form needs it: its input type, bounds, choices and unit, read from
 * the command's zod schema (the unit from `.meta({ unit })`). The dashboard builds its command
 * form from these, so a new command in a spec needs no dashboard change.
 */
export interface CommandField {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'string' | 'enum';
  required: boolean;
  minimum: number | null;
  maximum: number | null;
  enum: Array<string | number | boolean> | null;
  unit: string | null;
  description: string | null;
}

export const commandFieldSchema = z.object({
  name: z.string(),
  type: z.enum(['integer', 'number', 'boolean', 'string', 'enum']),
  required: z.boolean(),
  minimum: z.number().nullable(),
  maximum: z.number().nullable(),
  enum: z.array(z.union([z.string(), z.number(), z.boolean()])).nullable(),
  unit: z.string().nullable(),
  description: z.string().nullable(),
});

interface JsonProp {
  type?: string;
  enum?: Array<string | number | boolean>;
  const?: string | number | boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  unit?: string;
  description?: string;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function commandFields(cmd: CommandSpec): CommandField[] {
  const json = z.toJSONSchema(cmd.params, { unrepresentable: 'any' }) as {
    properties?: Record<string, JsonProp>;
    required?: string[];
  };
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const choices = p.enum ?? (p.const !== undefined ? [p.const] : null);
    const type: CommandField['type'] = choices
      ? 'enum'
      : p.type === 'integer' || p.type === 'number' || p.type === 'boolean'
        ? p.type
        : 'string';
    return {
      name,
      type,
      required: required.has(name),
      minimum: num(p.minimum) ?? num(p.exclusiveMinimum),
      maximum: num(p.maximum) ?? num(p.exclusiveMaximum),
      enum: choices,
      unit: typeof p.unit === 'string' ? p.unit : null,
      description: typeof p.description === 'string' ? p.description : null,
    };
  });
}
