/** The browser device's one-time prekeys (PROTOCOL §3.2), as the SDK keeps them: how many to
 * upload, ids that only grow, private halves kept in the keystore and deleted after first use,
 * at most the 400 newest kept. */
import { describe, expect, it } from "vitest";
import { KEEP_PRIVATE_MAX, ONE_TIME_BATCH, OneTimePrekeyStore, oneTimeTopUp, REPLENISH_BELOW, verifyOneTimePrekey } from "../../src/crypto/prekeys";
import { KeystoreData } from "../../src/crypto/keystore";

const DEV = "00000000-0000-4000-8000-000000000021";
const server = { max_batch: 100, max_stored: 200 };

describe("one-time prekey top-up", () => {
  it("uploads nothing while the server holds at least REPLENISH_BELOW", () => {
    expect([ONE_TIME_BATCH, REPLENISH_BELOW, KEEP_PRIVATE_MAX]).toEqual([100, 25, 400]);
    expect(oneTimeTopUp({ ...server, count: 25 })).toBe(0);
    expect(oneTimeTopUp({ ...server, count: 199 })).toBe(0);
  });
  it("below it, a batch of at most 100 that fits the server's batch and stock limits", () => {
    expect(oneTimeTopUp({ ...server, count: 0 })).toBe(100);
    expect(oneTimeTopUp({ ...server, count: 24 })).toBe(100);
    expect(oneTimeTopUp({ count: 0, max_batch: 40, max_stored: 200 })).toBe(40);
    expect(oneTimeTopUp({ count: 10, max_batch: 100, max_stored: 30 })).toBe(20);
    expect(oneTimeTopUp({ count: 10, max_batch: 100, max_stored: 10 })).toBe(0);
  });
});

describe("OneTimePrekeyStore", () => {
  it("signs each key with the device key under ids that only grow, and keeps the private halves", async () => {
    const device = await KeystoreData.create(DEV);
    const store = new OneTimePrekeyStore();
    const first = await store.generate(device.signingKey, DEV, 3);
    const more = await store.generate(device.signingKey, DEV, 2);
    expect([...first, ...more].map((k) => k.prekeyId)).toEqual([1, 2, 3, 4, 5]);
    for (const k of [...first, ...more]) {
      expect(await verifyOneTimePrekey(k, DEV, device.signingKey.publicKey)).toEqual(k.publicKey);
      expect(store.privates.get(k.prekeyId)!.publicKey).toEqual(k.publicKey);
    }
    expect(store.nextId).toBe(6);
  });

  it("survives the keystore: the same private halves and next id come back from its bytes", async () => {
    const device = await KeystoreData.create(DEV);
    const store = new OneTimePrekeyStore();
    const keys = await store.generate(device.signingKey, DEV, 4);
    store.consume(2);
    const back = await OneTimePrekeyStore.fromBytes(await store.toBytes());
    expect(back.nextId).toBe(5);
    expect([...back.privates.keys()]).toEqual([1, 3, 4]);
    for (const k of keys.filter((k) => k.prekeyId !== 2)) expect(back.privates.get(k.prekeyId)!.publicKey).toEqual(k.publicKey);
  });

  it("deletes a private half after its first use, counts the uses, and marks each change", async () => {
    const device = await KeystoreData.create(DEV);
    const store = new OneTimePrekeyStore();
    await store.generate(device.signingKey, DEV, 2);
    const revision = store.revision;
    store.consume(1);
    expect(store.privates.has(1)).toBe(false);
    expect(store.consumed).toBe(1);
    expect(store.revision).toBe(revision + 1);
    store.consume(1); // a second envelope to the same key finds nothing and counts nothing
    store.consume(99);
    expect(store.consumed).toBe(1);
    expect(store.revision).toBe(revision + 1);
  });

  it("keeps only the 400 newest private halves, dropping the lowest ids first", async () => {
    const device = await KeystoreData.create(DEV);
    const store = new OneTimePrekeyStore();
    for (let i = 0; i < 4; i++) await store.generate(device.signingKey, DEV, 100);
    expect(store.privates.size).toBe(400);
    await store.generate(device.signingKey, DEV, 50);
    expect(store.privates.size).toBe(KEEP_PRIVATE_MAX);
    const ids = [...store.privates.keys()].sort((a, b) => a - b);
    expect(ids[0]).toBe(51);
    expect(ids.at(-1)).toBe(450);
  });
});
