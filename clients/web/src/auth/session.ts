/**
 * Who is logged in, in this tab. The bearer token lives in memory only (never in web storage
 * or the URL): a reload asks for the password again, as the keystore will.
 */
import { computed, signal } from "@preact/signals";
import { ApiError, call, type CallOptions } from "../api/client";
import type { LoginRequest, TokenRead, UserRead } from "../api/types";
import { useLanguageOf } from "../i18n";
import { DeviceStore } from "./device";

export interface Session {
  token: string;
  deviceId: string;
  user: UserRead;
  expiresAt: string;
}

export const session = signal<Session | null>(null);
export const loggedIn = computed(() => session.value !== null);
/** Why the last session ended, for the login screen to say. */
export const endedBecause = signal<"logged_out" | "expired" | "enrolled" | null>(null);

let expiry: ReturnType<typeof setTimeout> | undefined;

/** End the session when its token expires, rather than at the next refused call. */
function watchExpiry(expiresAt: string): void {
  clearTimeout(expiry);
  const left = Date.parse(expiresAt) - Date.now();
  if (Number.isFinite(left) && left < 2 ** 31 - 1) {
    expiry = setTimeout(() => {
      if (session.value?.expiresAt === expiresAt) end("expired");
    }, Math.max(left, 0));
  }
}

function end(reason: "logged_out" | "expired"): void {
  clearTimeout(expiry);
  session.value = null;
  endedBecause.value = reason;
  useLanguageOf(null);
}

/** A call with the session's token; a token the server no longer honours ends the session. */
export async function authed<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const current = session.value;
  if (!current) throw new ApiError(401, "auth.invalid_token", "not logged in");
  try {
    return await call<T>(method, path, { ...options, token: current.token });
  } catch (error) {
    if (error instanceof ApiError && error.code === "auth.invalid_token") end("expired");
    throw error;
  }
}

/** Log in from this browser's device for the user, registering one on first use. */
export async function login(username: string, password: string, totpCode: string | null): Promise<Session> {
  const base = { username, password, totp_code: totpCode };
  const deviceId = await DeviceStore.find(username);
  let answer: TokenRead;
  if (deviceId) {
    try {
      answer = await call<TokenRead>("POST", "/auth/login", { body: { ...base, device_id: deviceId } satisfies LoginRequest });
    } catch (error) {
      if (!(error instanceof ApiError) || !["device.revoked", "device.not_found"].includes(error.code)) throw error;
      await DeviceStore.forget(username);
      return login(username, password, totpCode);
    }
  } else {
    const publicKeys = await DeviceStore.create(username);
    answer = await call<TokenRead>("POST", "/auth/login", { body: { ...base, device: publicKeys } satisfies LoginRequest });
    await DeviceStore.registered(username, answer.device_id);
  }
  const next: Session = {
    token: answer.access_token,
    deviceId: answer.device_id,
    user: answer.user,
    expiresAt: answer.expires_at,
  };
  session.value = next;
  endedBecause.value = null;
  watchExpiry(next.expiresAt);
  useLanguageOf(answer.user.username);
  return next;
}

/** Revoke this tab's token on the server, then forget it (also when the server is gone). */
export async function logout(): Promise<void> {
  try {
    await authed<void>("POST", "/auth/logout");
  } catch {
    // the token is dropped below either way
  }
  end("logged_out");
}

/** The caller's account changed (TOTP turned on): keep the session's copy current. */
export function updateUser(user: UserRead): void {
  if (session.value) session.value = { ...session.value, user };
}

/** After `revoke-all` this token is dead too. */
export function endedEverywhere(): void {
  end("logged_out");
}
