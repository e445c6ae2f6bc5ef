// Pure helpers behind the app/api route handlers. They take plain values so unit tests
// can call them without a running Next server or backend.

import { RequestRefusedError, positiveIntegerSetting } from "./guard";

export const SESSION_COOKIE = "todo_session";
export const DEFAULT_BACKEND_URL = "http://127.0.0.1:8000";

/** Headers copied from the browser request to the backend; everything else stays behind. */
const FORWARDED_REQUEST_HEADERS = ["accept", "accept-language", "content-type", "x-request-id"];

/** Headers copied from the backend response to the browser. */
const FORWARDED_RESPONSE_HEADERS = ["content-type", "cache-control", "retry-after", "allow", "x-request-id"];

/** Read at request time so one image serves every environment. */
export function backendUrl(env: Record<string, string | undefined> = process.env): string {
  const raw = env.BACKEND_URL?.trim();
  return (raw || DEFAULT_BACKEND_URL).replace(/\/+$/, "");
}

/**
 * Map the catch-all segments to the backend URL under /api. Segments are re-encoded one by
 * one, and dot segments are refused, so a crafted path cannot climb out of /api.
 */
export function buildBackendUrl(base: string, segments: readonly string[], search = ""): string {
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new InvalidPathError(segments.join("/"));
    }
  }
  const path = segments.map((s) => encodeURIComponent(s)).join("/");
  const query = search && search !== "?" ? (search.startsWith("?") ? search : `?${search}`) : "";
  return `${base.replace(/\/+$/, "")}/api/${path}${query}`;
}

export class InvalidPathError extends Error {
  constructor(path: string) {
    super(`Invalid API path: ${path}`);
    this.name = "InvalidPathError";
  }
}

/**
 * Headers for the backend call: a safe subset of the browser's, the bearer token, and the client's
 * address chain (`clientForwardedFor`), which the backend believes from the frontend's pods only.
 */
export function forwardRequestHeaders(incoming: Headers, token: string | undefined, forwardedFor?: string): Headers {
  const out = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value) out.set(name, value);
  }
  if (!out.has("accept")) out.set("accept", "application/json");
  if (token) out.set("authorization", `Bearer ${token}`);
  if (forwardedFor) out.set("x-forwarded-for", forwardedFor);
  return out;
}

export function forwardResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.get(name);
    if (value) out.set(name, value);
  }
  return out;
}

/** True when the browser reached us over https, directly or through a TLS-terminating proxy. */
export function isHttpsRequest(url: string, headers: Headers): boolean {
  const forwarded = headers.get("x-forwarded-proto");
  if (forwarded) return forwarded.split(",")[0].trim().toLowerCase() === "https";
  return new URL(url).protocol === "https:";
}

export interface CookieOptions {
  httpOnly: true;
  sameSite: "lax";
  secure: boolean;
  path: "/";
  maxAge: number;
}

export function sessionCookieOptions(secure: boolean, maxAgeSeconds?: number): CookieOptions {
  const maxAge =
    typeof maxAgeSeconds === "number" && Number.isFinite(maxAgeSeconds) && maxAgeSeconds > 0
      ? Math.floor(maxAgeSeconds)
      : 60 * 60;
  return { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge };
}

/** Options that make the browser drop the session cookie. */
export function clearedCookieOptions(secure: boolean): CookieOptions {
  return { ...sessionCookieOptions(secure), maxAge: 0 };
}

export interface ProxyError {
  status: number;
  body: { detail: string };
}

export const TIMEOUT_DETAIL = "The backend did not answer in time.";

/** Turn a refused request or a failed fetch to the backend into the JSON error the browser sees. */
export function mapUpstreamError(error: unknown, timeoutDetail = TIMEOUT_DETAIL): ProxyError {
  if (error instanceof RequestRefusedError) {
    return { status: error.status, body: { detail: error.message } };
  }
  if (error instanceof InvalidPathError) {
    return { status: 400, body: { detail: error.message } };
  }
  if (isTimeout(error)) {
    return { status: 504, body: { detail: timeoutDetail } };
  }
  return { status: 502, body: { detail: "The backend is unreachable. Please try again shortly." } };
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** Network error codes that prove the request never reached the backend, so resending is safe for any method. */
const NOT_CONNECTED_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/** Methods that change nothing at the backend, so a request lost on a closing connection may be resent. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The low-level reason behind a failed fetch: undici wraps it as `TypeError("fetch failed")` with
 * the socket error (code ECONNRESET, UND_ERR_SOCKET, ECONNREFUSED, ...) as its `cause`.
 */
export function upstreamErrorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === "string" && code) return code;
    current = current.cause;
  }
  return error instanceof Error ? error.name : "UnknownError";
}

/**
 * Whether a failed backend call is sent once more. During a rollout a kept-alive connection to a
 * backend pod that is shutting down can be closed just as a request goes out on it; resending on
 * a fresh connection reaches a serving pod. Safe methods are resent after any network error, other
 * methods only when the connection was never made. Timeouts and bad paths are never resent.
 */
export function isRetriable(method: string, error: unknown, idempotent = false): boolean {
  if (error instanceof InvalidPathError || isTimeout(error)) return false;
  if (!(error instanceof Error)) return false;
  if (idempotent || SAFE_METHODS.has(method.toUpperCase())) return true;
  return NOT_CONNECTED_CODES.has(upstreamErrorCode(error));
}

/** Methods whose request body is forwarded. */
export function methodHasBody(method: string): boolean {
  return !["GET", "HEAD", "DELETE"].includes(method.toUpperCase());
}

export const UPSTREAM_TIMEOUT_MS = 60_000;

export const DEFAULT_CHAT_TIMEOUT_MS = 60_000;

/**
 * How long the proxy waits for one assistant turn (POST /api/chat): PROXY_CHAT_TIMEOUT_MS. It must
 * stay above the backend's CHAT_TURN_DEADLINE_SECONDS (default 45 s), so that the backend, which
 * knows which tool calls ran, ends a long turn and answers, rather than the proxy giving up while
 * those calls still run.
 */
export function chatTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  return positiveIntegerSetting(env.PROXY_CHAT_TIMEOUT_MS, DEFAULT_CHAT_TIMEOUT_MS);
}

export const CHAT_TIMEOUT_DETAIL =
  "The assistant did not answer in time. Its actions may still have completed: " +
  "check the task list before sending the message again.";

/** The assistant turn: it runs tool calls that change tasks, so it is never resent. */
export function isChatTurn(method: string, segments: readonly string[]): boolean {
  return method.toUpperCase() === "POST" && segments.length === 1 && segments[0] === "chat";
}
