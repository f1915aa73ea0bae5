/**
 * One IndexedDB object store keyed by username, opened per call and closed after it: the
 * device store and the keystore vault both keep one record per user of this browser, and
 * nothing secret ever goes to localStorage.
 */
export type StoreRunner = <T>(
  mode: IDBTransactionMode,
  work: (store: IDBObjectStore) => IDBRequest<T>,
) => Promise<T>;

export function keyedByUsername(dbName: string, storeName: string): StoreRunner {
  const open = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(dbName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(storeName, { keyPath: "username" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error("indexedDB"));
    });
  return async (mode, work) => {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const request = work(db.transaction(storeName, mode).objectStore(storeName));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error ?? new Error("indexedDB"));
      });
    } finally {
      db.close();
    }
  };
}
