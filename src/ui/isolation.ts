/** sessionStorage key: set just before the one reload that should bring isolation. */
const RELOADED = 'ddpm-coi-reload';
/** Give up on the service worker after this long (registration can hang where service workers are blocked). */
const GIVE_UP_MS = 4000;

/**
 * Makes the page cross-origin isolated on hosts that send no COOP/COEP headers, by registering
 * public/coi-serviceworker.js (it adds them) and reloading once it controls the page. Resolves to
 * true when a reload is under way (the caller should not start the app), false otherwise: already
 * isolated, no service workers here (then WebAssembly runs one thread, and the badge says why), or
 * the one reload already happened without bringing isolation (so it never loops).
 */
export async function ensureCrossOriginIsolation(): Promise<boolean> {
  if (window.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return false;
  }
  if (!window.isSecureContext || !('serviceWorker' in navigator) || sessionStorage.getItem(RELOADED)) return false;
  const controlled = async () => {
    await navigator.serviceWorker.register(new URL('coi-serviceworker.js', document.baseURI));
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
    }
    return true;
  };
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), GIVE_UP_MS));
  // e.g. service workers disabled (register rejects, or never settles): run without threads
  if (!(await Promise.race([controlled().catch(() => false), timeout]))) return false;
  sessionStorage.setItem(RELOADED, '1');
  location.reload();
  return true;
}
