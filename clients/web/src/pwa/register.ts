/** Install the service worker (`public/sw.js`): it caches the app shell only, so the login
 * screen opens offline; API answers and anything decrypted are never put in a cache. */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator) || !import.meta.env.PROD) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      // no service worker (private mode, old browser): the app works online as before
    });
  });
}
