/**
 * Records encrypted at rest in IndexedDB (one database per user of this browser), under an
 * AES-256-GCM key whose 32 bytes live in the unlocked keystore's secrets: without the
 * passphrase the records are unreadable, and they leave memory with the keystore. Each record
 * is sealed with a fresh 96-bit nonce and its store and id as associated data, so a record
 * copied to another id (or store) fails to open instead of being shown as something else.
 * WebCrypto only; the key is imported non-extractable.
 */

export type Secrets = Map<string, Uint8Array>;

const KEY_SECRET = "web-local-records-key";
/** `inbox`: the records inbox (`records/incoming.ts`), added in version 2 of the database. */
const STORES = ["drafts", "feed", "inbox"] as const;
const VERSION = 2;
export type StoreName = (typeof STORES)[number];

interface Sealed {
  id: string;
  iv: Uint8Array;
  ct: ArrayBuffer;
}

/**
 * The key for this user's local records, made on first use. `created` tells the caller to save
 * the keystore before anything is sealed under it (else the key would be lost on a reload).
 */
export async function localRecordsKey(secrets: Secrets): Promise<{ key: CryptoKey; created: boolean }> {
  let raw = secrets.get(KEY_SECRET);
  const created = !raw;
  if (!raw) {
    raw = crypto.getRandomValues(new Uint8Array(32));
    secrets.set(KEY_SECRET, raw);
  }
  const key = await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { key, created };
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("indexedDB"));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("indexedDB"));
    tx.onabort = () => reject(tx.error ?? new Error("indexedDB transaction aborted"));
  });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One connection per user's database, opened on first use and kept for the page's life. */
const connections = new Map<string, Promise<IDBDatabase>>();

function database(username: string): Promise<IDBDatabase> {
  const name = `cordon-sealed:${username}`;
  let db = connections.get(name);
  if (!db) {
    db = new Promise((resolve, reject) => {
      const req = indexedDB.open(name, VERSION);
      req.onupgradeneeded = () => {
        for (const store of STORES) if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store, { keyPath: "id" });
      };
      req.onsuccess = () => {
        // Another tab upgrading the database (a newer version of this page): let it.
        req.result.onversionchange = () => {
          req.result.close();
          connections.delete(name);
        };
        resolve(req.result);
      };
      req.onerror = () => reject(req.error ?? new Error("indexedDB"));
    });
    connections.set(name, db);
  }
  return db;
}

/** A store of JSON values sealed under the local records key. */
export class SealedStore {
  constructor(
    private readonly username: string,
    private readonly store: StoreName,
    private readonly key: CryptoKey,
  ) {}

  private aad(id: string): Uint8Array<ArrayBuffer> {
    return encoder.encode(`cordon-local-record\n${this.store}\n${id}`);
  }

  private async seal(id: string, value: unknown): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: this.aad(id) }, this.key, encoder.encode(JSON.stringify(value)));
    return { id, iv, ct };
  }

  /** The value, or null when absent or when it does not open (altered, another key). */
  private async open<T>(record: Sealed | undefined): Promise<T | null> {
    if (!record) return null;
    try {
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv as Uint8Array<ArrayBuffer>, additionalData: this.aad(record.id) }, this.key, record.ct);
      return JSON.parse(decoder.decode(plain)) as T;
    } catch {
      return null;
    }
  }

  async get<T>(id: string): Promise<T | null> {
    const db = await database(this.username);
    return this.open<T>(await request<Sealed | undefined>(db.transaction(this.store).objectStore(this.store).get(id)));
  }

  /** Seal all first, then write them in one transaction (all or none). */
  async putMany(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    if (!entries.length) return;
    const sealed = await Promise.all(entries.map(([id, value]) => this.seal(id, value)));
    const db = await database(this.username);
    const tx = db.transaction(this.store, "readwrite");
    const store = tx.objectStore(this.store);
    for (const record of sealed) store.put(record);
    await done(tx);
  }

  put(id: string, value: unknown): Promise<void> {
    return this.putMany([[id, value]]);
  }

  delete(id: string): Promise<void> {
    return this.deleteMany([id]);
  }

  /** Delete these ids in one transaction. */
  async deleteMany(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const db = await database(this.username);
    const tx = db.transaction(this.store, "readwrite");
    const store = tx.objectStore(this.store);
    for (const id of ids) store.delete(id);
    await done(tx);
  }

  /** Every id, in order, without opening any record. */
  async keys(): Promise<string[]> {
    const db = await database(this.username);
    return (await request(db.transaction(this.store).objectStore(this.store).getAllKeys())) as string[];
  }

  /** Every value in id order; records that do not open are left out. */
  async all<T>(): Promise<T[]> {
    const db = await database(this.username);
    const records = await request<Sealed[]>(db.transaction(this.store).objectStore(this.store).getAll());
    const opened = await Promise.all(records.map((r) => this.open<T>(r)));
    return opened.filter((v): v is Awaited<T> => v !== null) as T[];
  }
}
