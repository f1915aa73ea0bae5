/**
 * This browser's device for one user: the id the server gave it and its key pairs.
 *
 * The server binds every token to a device registered with two public keys (Ed25519 signing,
 * X25519 exchange: app/devices). Until the protocol package (`src/crypto`) provides the
 * passphrase-wrapped keystore, the pairs are made here with WebCrypto, private halves
 * non-extractable, and kept in IndexedDB (never localStorage): that keystore replaces
 * `DeviceStore` and keeps its two calls.
 */
import type { DeviceCreate } from "../api/types";
import { randomBytes } from "../crypto/bytes";
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

export interface StoredDevice {
  username: string;
  deviceId: string | null;
  signing: { privateKey: CryptoKey; publicKey: Uint8Array };
  exchange: CryptoKeyPair;
}

const run = keyedByUsername(DB_NAME, STORE);

function b64url(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A short name for the device list: the browser and platform, no identifier. */
export function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? "Firefox" : /Edg\//.test(agent) ? "Edge" : /Chrom/.test(agent) ? "Chromium" : /Safari\//.test(agent) ? "Safari" : "Browser";
  const platform = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Windows/.test(agent) ? "Windows" : /Mac OS/.test(agent) ? "macOS" : /Linux/.test(agent) ? "Linux" : "";
  return `Cordon web · ${browser}${platform ? ` · ${platform}` : ""}`;
}

export const DeviceStore = {
  /** The device this browser registered for `username`, if any. */
  async find(username: string): Promise<StoredDevice | null> {
    return (await run<StoredDevice | undefined>("readonly", (s) => s.get(username))) ?? null;
  },

  /** Fresh key pairs for a device not yet registered; `registered` records its id. */
  async create(username: string): Promise<{ device: StoredDevice; publicKeys: DeviceCreate }> {
    // The keystore (src/feed/vault.ts) stores the device key as a seed: made here, kept in memory.
    // Fetched on first login only: the primitives module carries scrypt/SHA-2/HKDF, which the
    // login screen itself does not need.
    const { signingKeyFromSeed } = await import("../crypto/primitives");
    const seed = randomBytes(32);
    const signing = await signingKeyFromSeed(seed, false);
    pendingSeeds.set(username, seed);
    const exchange = (await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"])) as CryptoKeyPair;
    const device: StoredDevice = { username, deviceId: null, signing, exchange };
    return {
      device,
      publicKeys: {
        name: deviceName(),
        signing_key: b64url(signing.publicKey.slice().buffer),
        exchange_key: b64url(await crypto.subtle.exportKey("raw", exchange.publicKey)),
      },
    };
  },

  async registered(device: StoredDevice, deviceId: string): Promise<void> {
    await run("readwrite", (s) => s.put({ ...device, deviceId }));
  },

  /** Forget a device the server revoked, so the next login registers a new one. */
  async forget(username: string): Promise<void> {
    await run("readwrite", (s) => s.delete(username));
  },
};
