import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Budget: under 300 KB of gzipped JavaScript in total (issue 10). */
const BUDGET_BYTES = 300 * 1024;

/** Prints the total of gzipped JavaScript and fails the build past the budget. */
function jsBudget(): Plugin {
  return {
    name: 'citygate-js-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      let total = 0;
      for (const file of Object.values(bundle))
        if (file.type === 'chunk') total += gzipSync(file.code, { level: 9 }).length;
      const kb = (total / 1024).toFixed(1);
      this.info(`gzipped JavaScript in total: ${kb} KB (budget ${BUDGET_BYTES / 1024} KB)`);
      if (total > BUDGET_BYTES) this.error(`gzipped JavaScript ${kb} KB is over the budget`);
    },
  };
}

// Built into dashboard/dist; the gateway serves it at `/` (gateway/dashboard/dashboard-module.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [jsBudget()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
