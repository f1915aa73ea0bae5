/**
 * Which device this browser registered for a user: only its id, kept in IndexedDB.
 *
 * The server binds every token to a device registered with two public keys (Ed25519 signing,
 * X25519 exchange: app/devices). As in the Python SDK's login (`account/client.py`), the
 * signing key is the keystore's device key (`src/feed/vault.ts` keeps its seed, sealed under
 * the passphrase) and the exchange key is a throwaway the protocol never uses, so no key
 * material is stored here: one device, one key store.
 */
import type { DeviceCreate } from "../api/types";
import { b64e, randomBytes } from "../crypto/bytes";
import { keyedByUsername } from "../storage/idb";

/** The device seed of a device registered in this tab, until the feed's keystore takes it. */
const pendingSeeds = new Map<string, Uint8Array>();
export function takePendingSeed(username: string): Uint8Array | null {
  const seed = pendingSeeds.get(username) ?? null;
  pendingSeeds.delete(username);
  return seed;
}

const DB_NAME = "cordon-devices";
const STORE = "devices";

interface StoredDevice {
  username: string;
  deviceId: string;
}

const run = keyedByUsername(DB_NAME, STORE);

/** A short name for the device list: the browser and platform, no identifier. */
export function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? "Firefox" : /Edg\//.test(agent) ? "Edge" : /Chrom/.test(agent) ? "Chromium" : /Safari\//.test(agent) ? "Safari" : "Browser";
  const platform = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Windows/.test(agent) ? "Windows" : /Mac OS/.test(agent) ? "macOS" : /Linux/.test(agent) ? "Linux" : "";
  return `Cordon web · ${browser}${platform ? ` · ${platform}` : ""}`;
}

export const DeviceStore = {
  /** The id of the device this browser registered for `username`, if any. */
  async find(username: string): Promise<string | null> {
    return (await run<StoredDevice | undefined>("readonly", (s) => s.get(username)))?.deviceId ?? null;
  },

  /** Public keys for a device not yet registered; its seed waits for the keystore. */
  async create(username: string): Promise<DeviceCreate> {
    // Fetched on first login only: the primitives module carries scrypt/SHA-2/HKDF, which the
    // login screen itself does not need.
    const { signingKeyFromSeed } = await import("../crypto/primitives");
    const seed = randomBytes(32);
    const signing = await signingKeyFromSeed(seed, false);
    pendingSeeds.set(username, seed);
    const exchange = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
    return {
      name: deviceName(),
      signing_key: b64e(signing.publicKey),
      exchange_key: b64e(new Uint8Array(await crypto.subtle.exportKey("raw", exchange.publicKey))),
    };
  },

  async registered(username: string, deviceId: string): Promise<void> {
    await run("readwrite", (s) => s.put({ username, deviceId } satisfies StoredDevice));
  },

  /** Forget a device the server revoked, so the next login registers a new one. */
  async forget(username: string): Promise<void> {
    await run("readwrite", (s) => s.delete(username));
  },
};
