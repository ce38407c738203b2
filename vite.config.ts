import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// With DDPM_HARNESS=1 the build also has harness.html, a page that exposes the engine to browser
// tests (tests/browser), and goes to dist-test; the normal build ships only the playground.
const harness = process.env.DDPM_HARNESS === '1';

export default defineConfig({
  plugins: [react()],
  base: './',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: harness ? 'dist-test' : 'dist',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        ...(harness ? { harness: resolve(import.meta.dirname, 'harness.html') } : {}),
      },
    },
  },
});
