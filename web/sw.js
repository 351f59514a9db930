// The service worker: keeps the client's shell (the page, its modules, styles and icons) so
// the app opens without a connection, and shows the offline page when even that is missing.
// Network first, always: a deployed change reaches people on their next visit, and the cache
// only answers when the network cannot. API requests are never touched.

const CACHE = "objektify-shell-v1";
const SHELL = ["/", "/app/offline.html", "/app/style.css", "/app/icon.svg",
  "/app/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function isShell(url) {
  return url.origin === self.location.origin
    && (url.pathname === "/" || url.pathname.startsWith("/app/"));
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return kept;
    if (request.mode === "navigate") {
      const offline = await cache.match("/app/offline.html");
      if (offline) return offline;
    }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isShell(url)) return;
  event.respondWith(networkFirst(event.request));
});
