import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type DeviceSpec, type ModelSpec, validateSpec } from './define-device.ts';
import { FAMILIES } from './families.ts';

export class SpecError extends Error {
  override name = 'SpecError';
}

const specsDir = dirname(fileURLToPath(import.meta.url));

/** Lists the spec files: firmware-specs/{family}/{vendor}-{model}.ts */
export function specFiles(dir = specsDir): string[] {
  return FAMILIES.flatMap((family) => {
    let names: string[] = [];
    try {
      names = readdirSync(join(dir, family));
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts')).map((n) => join(dir, family, n));
  });
}

/** Loads and validates every spec; a broken one stops the start with a message naming it. */
export async function loadSpecs(dir = specsDir): Promise<Map<string, ModelSpec>> {
  const specs = new Map<string, ModelSpec>();
  const seen = new Map<string, string>();
  for (const file of specFiles(dir)) {
    const id = basename(file, '.ts');
    let mod: { default?: DeviceSpec };
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (err) {
      // A spec that does not even load (syntax error, a throw while defining it) must still
      // name its file.
      throw new SpecError(`firmware spec ${file} does not load: ${(err as Error).message}`, { cause: err });
    }
    const spec = mod.default;
    const problems = spec ? validateSpec(spec) : ['no default export'];
    if (specs.has(id)) problems.push(`model id "${id}" repeats another family's file name`);
    const familyDir = basename(dirname(file));
    if (spec && spec.family !== familyDir)
      problems.push(`family "${spec.family}" but the file is under ${familyDir}/`);
    const vm = spec && `${spec.vendor}/${spec.model}`.toLowerCase();
    if (vm && seen.has(vm)) problems.push(`vendor and model repeat ${seen.get(vm)}`);
    if (problems.length)
      throw new SpecError(`firmware spec ${file} is broken:\n  - ${problems.join('\n  - ')}`);
    seen.set(vm!, id);
    specs.set(id, { ...spec!, id });
  }
  if (specs.size === 0) throw new SpecError(`no firmware specs found under ${dir}`);
  return specs;
}
