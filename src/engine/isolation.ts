/**
 * Cross-origin isolation: what WebAssembly threads (SharedArrayBuffer) need. The headers every
 * response of the page's origin carries (vite.config.ts sends them from the dev and preview servers;
 * public/coi-serviceworker.js repeats them for static hosts that cannot set headers).
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** null when this context (page or worker) is cross-origin isolated; otherwise why not, i.e. why WebAssembly runs one thread. */
export function isolationNote(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; isSecureContext?: boolean };
  if (g.crossOriginIsolated) return null;
  if (g.crossOriginIsolated === undefined) return 'this runtime knows no cross-origin isolation';
  if (g.isSecureContext === false) return 'the page is not served over https or from localhost, so it cannot be cross-origin isolated';
  return 'the page is not cross-origin isolated (its server sends no COOP/COEP headers, and the service worker that adds them is not active)';
}
