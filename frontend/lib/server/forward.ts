import { NextResponse, type NextRequest } from "next/server";
import { clientForwardedFor } from "./clientAddress";
import { checkBodyHasType, checkDeclaredContentType, checkSameOrigin, maxBodyBytes, readBodyText } from "./guard";
import {
  SESSION_COOKIE,
  UPSTREAM_TIMEOUT_MS,
  forwardRequestHeaders,
  forwardResponseHeaders,
  isRetriable,
  mapUpstreamError,
  methodHasBody,
  upstreamErrorCode,
} from "./proxy";

/** Attempts per backend call: the first, and one resend on a fresh connection. */
export const BACKEND_ATTEMPTS = 2;

export interface BackendCallOptions {
  /** Resending the call is harmless even though its method is not a safe one (e.g. login). */
  idempotent?: boolean;
  /** False for a call that must reach the backend at most once, however it failed (the chat turn). */
  resend?: boolean;
  timeoutMs?: number;
}

/**
 * fetch() to the backend, resent once when the connection failed in a way `isRetriable` allows.
 * Every failure is logged as one JSON line (method, path, attempt, error code; never headers or
 * bodies), so a 502 seen by a user can be traced to its cause in the pod's log.
 */
export async function fetchBackend(
  url: string,
  init: RequestInit,
  { idempotent = false, resend = true, timeoutMs = UPSTREAM_TIMEOUT_MS }: BackendCallOptions = {},
): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetch(url, { ...init, cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const retrying = resend && attempt < BACKEND_ATTEMPTS && isRetriable(method, error, idempotent);
      logBackendFailure(method, url, attempt, error, retrying);
      if (!retrying) throw error;
    }
  }
}

function logBackendFailure(method: string, url: string, attempt: number, error: unknown, retrying: boolean) {
  console.error(
    JSON.stringify({
      level: retrying ? "warning" : "error",
      event: "backend_request_failed",
      method,
      path: pathOf(url),
      attempt,
      error: upstreamErrorCode(error),
      retrying,
    }),
  );
}

/** The URL's path for the log; a malformed BACKEND_URL still gets its line (never its text). */
function pathOf(url: string): string {
  return URL.canParse(url) ? new URL(url).pathname : "(unparsable BACKEND_URL)";
}

export interface ForwardOptions extends BackendCallOptions {
  /** What the browser is told when the backend did not answer within `timeoutMs`. */
  timeoutDetail?: string;
}

/**
 * The body of a browser request, refused (RequestRefusedError) when it is not JSON (415) or larger
 * than MAX_BODY_BYTES (413). Callers check the origin first, so another site's body is never read.
 */
export async function checkedBody(request: NextRequest): Promise<string> {
  checkDeclaredContentType(request.headers);
  const body = await readBodyText(request.headers, request.body, maxBodyBytes());
  checkBodyHasType(request.headers, body);
  return body;
}

/** Send the browser's request to `target` with the session token, and relay the answer. */
export async function forwardToBackend(
  request: NextRequest,
  target: string | (() => string),
  { timeoutDetail, ...callOptions }: ForwardOptions = {},
): Promise<NextResponse> {
  try {
    const url = typeof target === "function" ? target() : target;
    checkSameOrigin(request.method, request.headers);
    const body = methodHasBody(request.method) ? await checkedBody(request) : undefined;
    const token = request.cookies.get(SESSION_COOKIE)?.value;
    const upstream = await fetchBackend(
      url,
      {
        method: request.method,
        headers: forwardRequestHeaders(request.headers, token, clientForwardedFor(request.headers)),
        body,
        redirect: "manual",
      },
      callOptions,
    );
    return relay(upstream);
  } catch (error) {
    const mapped = mapUpstreamError(error, timeoutDetail);
    return NextResponse.json(mapped.body, { status: mapped.status });
  }
}

/** Streamed through rather than buffered, so the frontend never holds a whole answer in memory. */
function relay(upstream: Response): NextResponse {
  const headers = forwardResponseHeaders(upstream.headers);
  if (upstream.status === 204 || upstream.status === 304) {
    return new NextResponse(null, { status: upstream.status, headers });
  }
  return new NextResponse(upstream.body, { status: upstream.status, headers });
}
