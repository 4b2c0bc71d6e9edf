// The phone's store (IndexedDB `field-<user id>`: `package`, one record; `queue`, the entries) and the sync that
// sends the queue to the API's writes (docs/field-app.md). One sync at a time per user: a Web Lock where the browser
// has them, a flag in this page otherwise.
import { openDB, deleteDB } from "../vendor/idb/index.js";

const PACKAGE_KEY = "current";

export function databaseName(userId) {
  return `field-${userId}`;
}

export async function openStore(userId) {
  const db = await openDB(databaseName(userId), 1, {
    upgrade(database) {
      database.createObjectStore("package");
      database.createObjectStore("queue", { keyPath: "id" });
    },
  });
  return new Store(db, userId);
}

// A shared phone: the databases of anybody else who used the app on it go (the browser lists them where it can).
export async function wipeOthers(userId) {
  if (!indexedDB.databases) return 0;
  const others = (await indexedDB.databases())
    .map((database) => database.name)
    .filter((name) => name && name.startsWith("field-") && name !== databaseName(userId));
  await Promise.all(others.map((name) => deleteDB(name)));
  return others.length;
}

export async function wipeStore(store) {
  const name = store.db.name;
  store.db.close();
  await deleteDB(name);
}

class Store {
  constructor(db, userId) {
    this.db = db;
    this.userId = userId;
  }
  getPackage() {
    return this.db.get("package", PACKAGE_KEY);
  }
  putPackage(pkg) {
    return this.db.put("package", pkg, PACKAGE_KEY);
  }
  async entries() {
    const all = await this.db.getAll("queue");
    return all.sort((a, b) => (a.saved_at < b.saved_at ? -1 : 1));
  }
  getEntry(id) {
    return this.db.get("queue", id);
  }
  putEntry(entry) {
    return this.db.put("queue", entry);
  }
  deleteEntry(id) {
    return this.db.delete("queue", id);
  }
}

// A new entry, saved at once with its own id (its Idempotency-Key).
export function newEntry(kind, target, fields, photos, title) {
  return {
    id: crypto.randomUUID(),
    kind,
    target,
    fields,
    photos,
    title,
    saved_at: new Date().toISOString(),
    state: "queued",
    answer: null,
  };
}

function formData(entry) {
  const data = new FormData();
  for (const [name, value] of Object.entries(entry.fields)) {
    if (Array.isArray(value)) value.forEach((item) => data.append(name, item));
    else if (value !== null && value !== undefined) data.append(name, String(value));
  }
  const photoField = entry.kind === "problem" ? "evidence" : "photos";
  entry.photos.forEach((blob, index) => data.append(photoField, blob, `photo-${index + 1}.jpg`));
  return data;
}

async function answerOf(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

// Sends the queued entries one by one. Returns {outcome, sent: [entries], ...}:
// outcome "done" (nothing left to send now), "signin" (401), "offline" (network error or 5xx), "busy" (another
// sync is running), "nocsrf" (who-am-I unknown).
export async function sync(store, { urls, csrfToken, onProgress }) {
  const run = () => sendQueue(store, urls, csrfToken, onProgress);
  if (navigator.locks) {
    return navigator.locks.request(`field-sync-${store.userId}`, { ifAvailable: true }, (lock) =>
      lock ? run() : { outcome: "busy", sent: [] },
    );
  }
  if (sync.running) return { outcome: "busy", sent: [] };
  sync.running = true;
  try {
    return await run();
  } finally {
    sync.running = false;
  }
}

async function sendQueue(store, urls, csrfToken, onProgress) {
  const sent = [];
  if (!csrfToken) return { outcome: "nocsrf", sent };
  for (const entry of await store.entries()) {
    if (entry.state !== "queued") continue;
    const fresh = await store.getEntry(entry.id); // dropped or changed meanwhile (another tab)
    if (!fresh || fresh.state !== "queued") continue;
    let response;
    try {
      response = await fetch(urls[entry.kind].replace("{id}", entry.target), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Idempotency-Key": entry.key || entry.id,
          "X-CSRFToken": csrfToken,
          Accept: "application/json",
        },
        body: formData(entry),
      });
    } catch {
      return { outcome: "offline", sent };
    }
    if (response.ok) {
      await store.deleteEntry(entry.id);
      sent.push({ ...entry, photos: [], answer: await answerOf(response), sent_at: new Date().toISOString() });
      if (onProgress) onProgress();
      continue;
    }
    if (response.status === 401) return { outcome: "signin", sent };
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      return { outcome: "offline", sent };
    }
    const answer = await answerOf(response);
    const state = response.status === 409 ? "conflict" : "refused";
    await store.putEntry({ ...entry, state, answer: { status: response.status, ...answer } });
    if (onProgress) onProgress();
  }
  return { outcome: "done", sent };
}
