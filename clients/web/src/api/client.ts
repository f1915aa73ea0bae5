/**
 * The one way the UI talks to the REST API (`/api/v1`, same origin).
 *
 * A refusal arrives as an RFC 9457 problem document with a stable `code`; it becomes an
 * `ApiError` carrying that code, so screens branch on codes and show the user one line in
 * their language (`describeError`), never the server's English wording.
 */

export const API_BASE = "/api/v1";

/** A problem document the server answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = "ApiError";
  }
}

/** The request never got an answer (offline, server down, connection reset). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("network error", { cause });
    this.name = "NetworkError";
  }
}

interface Problem {
  code?: unknown;
  detail?: unknown;
  title?: unknown;
}

/** The `ApiError` of a failed response, problem+json or not (a proxy's HTML 502 too). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: Problem = {};
  try {
    const parsed: unknown = await response.json();
    if (parsed && typeof parsed === "object") body = parsed as Problem;
  } catch {
    // not JSON: keep the status alone
  }
  const code = typeof body.code === "string" ? body.code : `http.${response.status}`;
  const detail =
    typeof body.detail === "string"
      ? body.detail
      : typeof body.title === "string"
        ? body.title
        : response.statusText;
  return new ApiError(response.status, code, detail);
}

export interface CallOptions {
  body?: unknown;
  token?: string | null;
  signal?: AbortSignal;
}

/** One call: JSON in, JSON out (`undefined` for 204), `ApiError` / `NetworkError` on failure. */
export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      credentials: "omit",
      cache: "no-store",
      signal: options.signal ?? null,
    });
  } catch (error) {
    throw new NetworkError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
