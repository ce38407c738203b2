import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { ISOLATION_HEADERS } from './src/engine/isolation.ts';

// With DDPM_HARNESS=1 the build also has harness.html, a page that exposes the engine to browser
// tests (tests/browser), and goes to dist-test; the normal build ships only the playground.
const harness = process.env.DDPM_HARNESS === '1';
const NAME_SAFE_MINIFY = { compress: false, mangle: false, codegen: true };

export default defineConfig({
  plugins: [react()],
  base: './',
  // cross-origin isolation, so tfjs-wasm can run one thread per core (src/engine/isolation.ts)
  server: { headers: { ...ISOLATION_HEADERS } },
  preview: { headers: { ...ISOLATION_HEADERS } },
  // tfjs-wasm starts its threads from the source text of its own (bundled) module factory: renamed
  // or rewritten names would not exist there ("e is not defined"), so a bundle that runs tfjs-wasm is
  // only stripped of whitespace: the worker's, and the test harness page's (it runs tfjs itself)
  worker: { format: 'es', rolldownOptions: { output: { minify: NAME_SAFE_MINIFY } } },
  build: {
    target: 'es2022',
    outDir: harness ? 'dist-test' : 'dist',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      ...(harness ? { output: { minify: NAME_SAFE_MINIFY } } : {}),
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        ...(harness ? { harness: resolve(import.meta.dirname, 'harness.html') } : {}),
      },
    },
  },
});
