// Runs a TypeScript entry point in Node through Vite's SSR module loader (Node 20 cannot run .ts
// itself): `node scripts/run.mjs scripts/sample.ts --flags…`. The entry exports `main(argv)`.
import { createServer } from 'vite';

const [entry, ...argv] = process.argv.slice(2);
const server = await createServer({
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let code = 0;
try {
  const mod = await server.ssrLoadModule(entry);
  code = (await mod.main(argv)) ?? 0;
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  code = 1;
} finally {
  await server.close();
}
process.exit(code);
