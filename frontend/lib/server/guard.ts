// Checks a request from the browser passes before a route handler reads or forwards it: a bounded
// body, JSON only, and no state change asked for by another site. Pure functions of headers, env
// and streams, so unit tests call them without a Next server.

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A request the frontend answers itself with `status`, without calling the backend. */
export class RequestRefusedError extends Error {
  constructor(
    public readonly status: 403 | 413 | 415,
    detail: string,
  ) {
    super(detail);
    this.name = "RequestRefusedError";
  }
}

/** A positive integer from the environment; anything else (unset, blank, 0, "1e3x") is the default. */
export function positiveIntegerSetting(raw: string | undefined, fallback: number): number {
  const text = raw?.trim() ?? "";
  if (!/^\d+$/.test(text)) return fallback;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

export function maxBodyBytes(env: Record<string, string | undefined> = process.env): number {
  return positiveIntegerSetting(env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES);
}

function tooLarge(limit: number): RequestRefusedError {
  return new RequestRefusedError(
    413,
    `The request body is larger than ${limit} bytes (MAX_BODY_BYTES). Send a smaller body.`,
  );
}

/**
 * The body as text, refused with 413 once it passes `limit` bytes: at once when Content-Length
 * says so, otherwise as soon as the streamed bytes do, so at most one chunk past the limit is held.
 */
export async function readBodyText(
  headers: Headers,
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<string> {
  const declared = headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    text += decoder.decode(value, { stream: true });
  }
}

export function isJsonContentType(value: string | null): boolean {
  return value?.split(";")[0].trim().toLowerCase() === "application/json";
}

const NOT_JSON =
  "The request body must be JSON sent with the header Content-Type: application/json.";

/**
 * A declared type that is not JSON is refused before the body is read: text/plain, form and
 * multipart bodies are what a cross-site form can send without a CORS preflight. A request with
 * no type is judged by its body (checkBodyHasType): an empty one is the backend's to refuse (422).
 */
export function checkDeclaredContentType(headers: Headers): void {
  const type = headers.get("content-type");
  if (type !== null && !isJsonContentType(type)) throw new RequestRefusedError(415, NOT_JSON);
}

/** A body that arrived without any Content-Type is refused too; an empty one needs none. */
export function checkBodyHasType(headers: Headers, body: string): void {
  if (body !== "" && !isJsonContentType(headers.get("content-type"))) throw new RequestRefusedError(415, NOT_JSON);
}

const STATE_CHANGING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Extra origins (scheme://host[:port]) allowed besides the app's own host: `ALLOWED_ORIGINS`, comma-separated. */
export function allowedOrigins(env: Record<string, string | undefined> = process.env): Set<string> {
  const origins = new Set<string>();
  for (const entry of (env.ALLOWED_ORIGINS ?? "").split(",")) {
    const trimmed = entry.trim();
    if (trimmed && URL.canParse(trimmed)) origins.add(new URL(trimmed).origin);
  }
  return origins;
}

/** The host the browser addressed: a proxy's X-Forwarded-Host, else Host (Next fills both in). */
function requestHost(headers: Headers): string | null {
  const raw = headers.get("x-forwarded-host")?.split(",")[0].trim() || headers.get("host")?.trim();
  if (!raw || !URL.canParse(`http://${raw}`)) return null;
  return new URL(`http://${raw}`).host;
}

/**
 * Refuse a state-changing request a browser sent from another site (403). Browsers send Origin on
 * every such request; it must be the app's own host or one of ALLOWED_ORIGINS. Without an Origin,
 * Sec-Fetch-Site still marks a browser's cross-site request. A client that sends neither (curl,
 * Ansible's uri module) is no browser, so it carries no victim's cookies and passes.
 */
export function checkSameOrigin(
  method: string,
  headers: Headers,
  env: Record<string, string | undefined> = process.env,
): void {
  if (!STATE_CHANGING_METHODS.has(method.toUpperCase())) return;
  const origin = headers.get("origin");
  if (origin !== null) {
    const parsed = origin !== "null" && URL.canParse(origin) ? new URL(origin) : null;
    if (parsed && (parsed.host === requestHost(headers) || allowedOrigins(env).has(parsed.origin))) return;
    throw new RequestRefusedError(
      403,
      `Cross-site request refused: a page at ${origin} may not change anything here. ` +
        "Use the app from its own address, or add that origin to ALLOWED_ORIGINS if it is this app's public address.",
    );
  }
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new RequestRefusedError(
      403,
      `Cross-site request refused (Sec-Fetch-Site: ${site}). Use the app from its own address.`,
    );
  }
}
