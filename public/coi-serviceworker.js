// Cross-origin isolation for static hosts that cannot set response headers (e.g. GitHub Pages):
// this service worker adds COOP/COEP (and CORP) to every response of the page's own origin, so the
// page gets SharedArrayBuffer and tfjs-wasm can run one thread per core. src/ui/isolation.ts
// registers it only when the page is not already isolated; the headers are those of
// src/engine/isolation.ts, which the dev and preview servers send themselves.
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return; // the page loads nothing else
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.status === 0) return response; // opaque: cannot be rewritten
      const headers = new Headers(response.headers);
      for (const [name, value] of Object.entries(HEADERS)) headers.set(name, value);
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
