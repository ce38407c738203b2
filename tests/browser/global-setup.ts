import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { CHROMIUM_PATH } from './chromium';
import { serveStatic } from './serve';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'dist-test');

/** Builds the app (plus harness.html) once and serves it on 127.0.0.1 (a secure context, so WebGPU exists). */
export default async function setup(project: TestProject) {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`browser tests need Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  // a production build (Vitest sets NODE_ENV=test, which would give React's slow development build)
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  process.env.DDPM_HARNESS = '1';
  try {
    await build({ root: ROOT, mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
    delete process.env.DDPM_HARNESS;
  }
  const server = await serveStatic(OUT);
  const plain = await serveStatic(OUT, false); // no COOP/COEP headers, like a plain static host
  project.provide('baseUrl', server.url);
  project.provide('plainUrl', plain.url);
  return async () => {
    await server.close();
    await plain.close();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** The same files from a server that sends no cross-origin isolation headers. */
    plainUrl: string;
  }
}
