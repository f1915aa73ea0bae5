/**
 * This browser's protocol identity: the passphrase keystore of `src/crypto` (the Python SDK's
 * format), sealed text kept in IndexedDB, opened keys held in memory only. Mirrors the SDK's
 * login (`account/client.py`): device key registered at login, member key made with it,
 * signed prekey and member key published.
 */
import { authed } from "../auth/session";
import { b64e, KeystoreData, openKeystore, prekeyToJson, sealKeystore } from "../crypto";

const DB_NAME = "cordon-keystores";
const STORE = "keystores";

interface SealedRecord {
  username: string;
  deviceId: string;
  text: string;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "username" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("indexedDB"));
  });
}

async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = work(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error("indexedDB"));
    });
  } finally {
    db.close();
  }
}

export async function sealedFor(username: string): Promise<SealedRecord | null> {
  return (await run<SealedRecord | undefined>("readonly", (s) => s.get(username))) ?? null;
}

/** An opened keystore and the passphrase that re-seals it after each change (memory only). */
export class Vault {
  private saving: Promise<void> = Promise.resolve();
  private constructor(
    readonly username: string,
    readonly data: KeystoreData,
    private readonly passphrase: string,
  ) {}

  get deviceId(): string {
    return this.data.deviceId;
  }

  /** First set-up: the device seed registered at login becomes the keystore's device key. */
  static async create(username: string, deviceId: string, seed: Uint8Array, passphrase: string): Promise<Vault> {
    const data = await KeystoreData.create(deviceId, true, { device: seed });
    const vault = new Vault(username, data, passphrase);
    await vault.save();
    await vault.publishKeys();
    return vault;
  }

  /** Unlock after a reload; a wrong passphrase is `WrongPassphraseError`. */
  static async unlock(username: string, passphrase: string): Promise<Vault> {
    const record = await sealedFor(username);
    if (!record) throw new Error("no keystore in this browser");
    return new Vault(username, await openKeystore(record.text, passphrase), passphrase);
  }

  /** Re-seal and store; saves run one after another so the last state wins. */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const text = await sealKeystore(this.data, this.passphrase);
      await run("readwrite", (s) => s.put({ username: this.username, deviceId: this.deviceId, text } satisfies SealedRecord));
    });
    return this.saving;
  }

  /** Signed prekey when due, member key once (as `publish_keys` in the SDK). */
  async publishKeys(): Promise<void> {
    const prekey = await this.data.rotatePrekeys(Date.now());
    if (prekey) {
      await this.save(); // the private half is stored before anyone can seal to it
      await authed("POST", "/devices/me/prekeys", { body: { prekey: prekeyToJson(prekey) } });
    }
    const member = this.data.memberKey;
    if (member && !this.data.secrets.has("member-key-published")) {
      try {
        await authed("PUT", "/devices/me/member-key", { body: { member_key: b64e(member.publicKey) } });
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith("keys.member_key_exists"))) throw error;
        this.data.memberKey = null;
      }
      this.data.secrets.set("member-key-published", new Uint8Array([1]));
      await this.save();
    }
  }
}
