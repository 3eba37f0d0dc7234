import type { TestProject } from 'vitest/node';
import { ensureDashboardBuilt } from './dashboard-build.ts';
import { startVictoria, stopAndRemove } from './victoria.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    victoriaUrl: string;
  }
}

/** One shared victoria-metrics for the run; tests that stop their database start their own. */
export default async function setup(project: TestProject) {
  await ensureDashboardBuilt();
  const vm = await startVictoria();
  project.provide('victoriaUrl', vm.url);
  return async () => stopAndRemove(vm);
}
