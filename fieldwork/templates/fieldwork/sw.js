// The field app's service worker (docs/field-app.md), drawn by fieldwork.views.service_worker. Its scope is
// /field/app/. It caches only the app's shell and the static files it needs, in one cache per release; the shell is
// fetched from the network first (the cached copy only when there is no signal); nothing else is ever cached:
// never /api/, never another page.
"use strict";
const VERSION = {{ version|safe }};
const CACHE = "field-shell-" + VERSION;
const SHELL = {{ shell|safe }};
const FILES = {{ files|safe }};

// The shell is kept only when it is the shell (signed in): a redirect to the login page or an error page is not.
function keepShell(cache, response) {
  if (response.ok && !response.redirected && response.type === "basic") return cache.put(SHELL, response);
  return Promise.resolve();
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        cache.addAll(FILES).then(() =>
          fetch(SHELL, { credentials: "same-origin" })
            .then((response) => keepShell(cache, response))
            .catch(() => undefined),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("field-shell-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.origin === self.location.origin && url.pathname === SHELL;
}

function isCachedFile(url) {
  return url.origin === self.location.origin && FILES.includes(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.pathname.startsWith("/api/")) return; // never cached, never answered from a cache
  if (request.mode === "navigate" && isShell(url)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => keepShell(cache, copy)));
          return response;
        })
        .catch(() => caches.open(CACHE).then((cache) => cache.match(SHELL)).then((cached) => cached || Response.error())),
    );
    return;
  }
  if (isCachedFile(url)) {
    event.respondWith(
      caches.open(CACHE).then((cache) => cache.match(url.pathname).then((cached) => cached || fetch(request))),
    );
  }
});
