import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `vite build --mode test` adds harness.html, a page that exposes the engine to browser tests
// (tests/browser); the production build ships only the playground.
export default defineConfig(({ mode }) => ({
  plugins: [react()],
  base: './',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: mode === 'test' ? 'dist-test' : 'dist',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        ...(mode === 'test' ? { harness: resolve(import.meta.dirname, 'harness.html') } : {}),
      },
    },
  },
}));
