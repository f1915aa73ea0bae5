/** The REST API bodies the UI reads and sends (the schemas.py of each app domain); dates are ISO strings. */

export type PlatformRole = "admin" | "user";

export interface UserRead {
  id: string;
  organisation_id: string;
  username: string;
  display_name: string;
  platform_role: PlatformRole;
  is_ncp: boolean;
  totp_enabled: boolean;
  disabled_at: string | null;
  created_at: string;
}

export interface EnrolmentInfo {
  username: string;
  display_name: string;
  totp_required: boolean;
  totp_secret: string | null;
  otpauth_uri: string | null;
}

export interface EnrolmentComplete {
  code: string;
  password: string;
  totp_code: string | null;
}

/** A device's public keys, base64url (32 bytes each). */
export interface DeviceCreate {
  name: string;
  signing_key: string;
  exchange_key: string;
}

export interface LoginRequest {
  username: string;
  password: string;
  totp_code: string | null;
  device_id?: string;
  device?: DeviceCreate;
}

export interface TokenRead {
  access_token: string;
  token_type: string;
  expires_at: string;
  device_id: string;
  user: UserRead;
}

export interface DeviceRead {
  id: string;
  user_id: string;
  name: string;
  signing_key: string;
  exchange_key: string;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
}

export interface RevokedRead {
  revoked: number;
}

export interface TotpSetupRead {
  secret: string;
  otpauth_uri: string;
}
