/**
 * Registers the service worker (src/service-worker.ts) once a user is signed in, after the page
 * has loaded: it precaches the app shell in the background, so it must not compete with the
 * first load (docs/WEBAPP.md, "Offline briefcase").
 */
let registered = false;

export function registerServiceWorker(): void {
  if (registered || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  if (import.meta.env.DEV) return; // Vite's dev server has no built worker
  registered = true;
  const register = () => void navigator.serviceWorker.register('/service-worker.js', { scope: '/' });
  if (document.readyState === 'complete') setTimeout(register, 1_000);
  else window.addEventListener('load', () => setTimeout(register, 1_000), { once: true });
}
