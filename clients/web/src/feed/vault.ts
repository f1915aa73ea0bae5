/**
 * This browser's protocol identity: the passphrase keystore of `src/crypto` (the Python SDK's
 * format), sealed text kept in IndexedDB, opened keys held in memory only. Mirrors the SDK's
 * login (`account/client.py`): device key registered at login, member key made with it,
 * signed prekey and member key published.
 */
import { authed } from "../auth/session";
import { b64e, KeystoreData, KeystoreKey, openKeystoreKeepingKey, prekeyToJson } from "../crypto";
import { keyedByUsername } from "../storage/idb";
import { localRecordsKey } from "../storage/sealed";

const DB_NAME = "cordon-keystores";
const STORE = "keystores";

interface SealedRecord {
  username: string;
  deviceId: string;
  text: string;
}

const run = keyedByUsername(DB_NAME, STORE);

export async function sealedFor(username: string): Promise<SealedRecord | null> {
  return (await run<SealedRecord | undefined>("readonly", (s) => s.get(username))) ?? null;
}

/**
 * An opened keystore and the key that re-seals it after each change (memory only): one scrypt
 * per unlock, then each save is a fresh-nonce AES-GCM seal under the kept key.
 */
export class Vault {
  private saving: Promise<void> = Promise.resolve();
  private local: CryptoKey | null = null;
  private constructor(
    readonly username: string,
    readonly data: KeystoreData,
    private readonly key: KeystoreKey,
  ) {}

  get deviceId(): string {
    return this.data.deviceId;
  }

  /** First set-up: the device seed registered at login becomes the keystore's device key. */
  static async create(username: string, deviceId: string, seed: Uint8Array, passphrase: string): Promise<Vault> {
    const data = await KeystoreData.create(deviceId, true, { device: seed });
    const vault = new Vault(username, data, await KeystoreKey.derive(passphrase));
    await vault.save();
    await vault.publishKeys();
    return vault;
  }

  /** Unlock after a reload; a wrong passphrase is `WrongPassphraseError`. */
  static async unlock(username: string, passphrase: string): Promise<Vault> {
    const record = await sealedFor(username);
    if (!record) throw new Error("no keystore in this browser");
    const { data, key } = await openKeystoreKeepingKey(record.text, passphrase);
    return new Vault(username, data, key);
  }

  /** Re-seal and store; saves run one after another so the last state wins. */
  save(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const text = await this.key.seal(this.data);
      await run("readwrite", (s) => s.put({ username: this.username, deviceId: this.deviceId, text } satisfies SealedRecord));
    });
    return this.saving;
  }

  /**
   * The key of this user's encrypted local records (feed history, drafts: `storage/sealed.ts`),
   * from the keystore's secrets; a new one is saved in the keystore before it is handed out.
   */
  async localKey(): Promise<CryptoKey> {
    if (!this.local) {
      const { key, created } = await localRecordsKey(this.data.secrets);
      if (created) await this.save();
      this.local = key;
    }
    return this.local;
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
