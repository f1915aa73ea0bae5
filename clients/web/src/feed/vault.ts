/**
 * This browser's protocol identity: the passphrase keystore of `src/crypto` (the Python SDK's
 * format), sealed text kept in IndexedDB, opened keys held in memory only. Mirrors the SDK's
 * login (`account/client.py`): device key registered at login, member key made with it,
 * signed prekey and member key published.
 */
import { authed } from "../auth/session";
import { b64e, ClaimLedger, KeystoreData, KeystoreKey, LEDGER_SECRET, type OneTimePrekey, OneTimePrekeyStore, oneTimePrekeyToJson, oneTimeTopUp, openKeystoreKeepingKey, parseClaim, prekeyToJson, STORE_SECRET } from "../crypto";
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
  /** The one-time prekeys' private halves once loaded (`oneTimePrekeys`); written on each save. */
  oneTime: OneTimePrekeyStore | null = null;
  private toppingUp: Promise<number> | null = null;
  private storedRevision = -1;
  private ledger: ClaimLedger | null = null;
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
      if (this.ledger) this.data.secrets.set(LEDGER_SECRET, this.ledger.toBytes());
      const store = this.oneTime;
      if (store && store.revision !== this.storedRevision) {
        const revision = store.revision;
        this.data.secrets.set(STORE_SECRET, await store.toBytes());
        this.storedRevision = revision;
      }
      const text = await this.key.seal(this.data);
      await run("readwrite", (s) => s.put({ username: this.username, deviceId: this.deviceId, text } satisfies SealedRecord));
    });
    // Some one-time prekeys were used: top the server's stock up, once the state is stored
    // (a failure is left for the next time, as the SDK's key maintenance does).
    if (this.oneTime && this.oneTime.consumed > 0 && !this.toppingUp) {
      void this.saving.then(() => (this.oneTime!.consumed > 0 ? this.replenishOneTimePrekeys() : 0)).catch(() => undefined);
    }
    return this.saving;
  }

  /** The newest one-time prekey this device sealed to, per target device (§3.3): a served
   * id not above it is the server serving a key twice, refused. Written on each save. */
  claimLedger(): ClaimLedger {
    if (!this.ledger) {
      const raw = this.data.secrets.get(LEDGER_SECRET);
      this.ledger = raw ? ClaimLedger.fromBytes(raw) : new ClaimLedger();
    }
    return this.ledger;
  }

  /**
   * Claim one one-time prekey per device before sealing to them (`_choose_prekeys`): the
   * answer is parsed strictly; a device the server has none left for gets its signed prekey.
   */
  async claimOneTime(groupId: string, devices: readonly string[], call: <T>(method: string, path: string, body?: unknown) => Promise<T> = (method, path, body) => authed(method, path, body === undefined ? {} : { body })): Promise<Map<string, OneTimePrekey>> {
    if (!devices.length) return new Map();
    const answer = await call<{ items?: unknown }>("POST", `/groups/${groupId}/one-time-prekeys/claim`, { device_ids: devices });
    return parseClaim(answer.items, devices);
  }

  /** This device's one-time prekey store (keystore secret `one-time-prekeys`), loaded once. */
  async oneTimePrekeys(): Promise<OneTimePrekeyStore> {
    if (!this.oneTime) {
      const raw = this.data.secrets.get(STORE_SECRET);
      this.oneTime = raw ? await OneTimePrekeyStore.fromBytes(raw) : new OneTimePrekeyStore();
    }
    return this.oneTime;
  }

  /**
   * Upload a batch of one-time prekeys when the server holds fewer than `REPLENISH_BELOW`
   * (PROTOCOL §3.2): the private halves are sealed in the keystore before the public halves
   * are served. Returns the count the server holds afterwards. One run at a time.
   */
  replenishOneTimePrekeys(): Promise<number> {
    this.toppingUp ??= (async () => {
      try {
        const store = await this.oneTimePrekeys();
        store.consumed = 0;
        const stock = await authed<{ count: number; max_batch: number; max_stored: number }>("GET", "/devices/me/one-time-prekeys");
        const room = oneTimeTopUp(stock);
        if (room === 0) return stock.count;
        const keys = await store.generate(this.data.signingKey, this.deviceId, room);
        await this.save();
        const answer = await authed<{ count: number }>("POST", "/devices/me/one-time-prekeys", { body: { prekeys: keys.map(oneTimePrekeyToJson) } });
        return answer.count;
      } finally {
        this.toppingUp = null;
      }
    })();
    return this.toppingUp;
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

  /** Signed prekey when due, one-time prekeys topped up, member key once (as `publish_keys` in the SDK). */
  async publishKeys(): Promise<void> {
    const prekey = await this.data.rotatePrekeys(Date.now());
    if (prekey) {
      await this.save(); // the private half is stored before anyone can seal to it
      await authed("POST", "/devices/me/prekeys", { body: { prekey: prekeyToJson(prekey) } });
    }
    await this.replenishOneTimePrekeys();
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
