import { NextResponse, type NextRequest } from "next/server";
import { onlyMethods } from "@/lib/server/allow";
import { checkSameOrigin } from "@/lib/server/guard";
import { clientForwardedFor } from "@/lib/server/clientAddress";
import { checkedBody, fetchBackend } from "@/lib/server/forward";
import {
  SESSION_COOKIE,
  backendUrl,
  forwardRequestHeaders,
  forwardResponseHeaders,
  isHttpsRequest,
  mapUpstreamError,
  sessionCookieOptions,
} from "@/lib/server/proxy";

export const dynamic = "force-dynamic";

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
}

/** Exchange credentials for a JWT and keep it in an httpOnly cookie the page script cannot read. */
export async function POST(request: NextRequest) {
  let upstream: Response;
  try {
    // Another site's form must not log the visitor into an account of its choosing (login CSRF).
    checkSameOrigin(request.method, request.headers);
    const body = await checkedBody(request);
    // Resending a login only issues another token, so a connection lost mid-rollout is retried.
    // The client's address goes along: the backend limits login attempts per client.
    const headers = forwardRequestHeaders(new Headers(), undefined, clientForwardedFor(request.headers));
    headers.set("content-type", "application/json");
    upstream = await fetchBackend(
      `${backendUrl()}/api/auth/login`,
      { method: "POST", headers, body },
      { idempotent: true },
    );
  } catch (error) {
    const mapped = mapUpstreamError(error);
    return NextResponse.json(mapped.body, { status: mapped.status });
  }

  const payload = (await upstream.json().catch(() => ({}))) as TokenResponse & { detail?: unknown };
  if (!upstream.ok || !payload.access_token) {
    const status = upstream.ok ? 502 : upstream.status;
    // Retry-After goes along: a client held back by the login limits must learn for how long.
    const headers = forwardResponseHeaders(upstream.headers);
    headers.delete("content-type");
    return NextResponse.json({ detail: payload.detail ?? "Login failed." }, { status, headers });
  }

  const response = NextResponse.json({ ok: true });
  response.cookies.set(
    SESSION_COOKIE,
    payload.access_token,
    sessionCookieOptions(isHttpsRequest(request.url, request.headers), payload.expires_in),
  );
  return response;
}

const other = onlyMethods("POST");
export const GET = other.refuse;
export const PUT = other.refuse;
export const PATCH = other.refuse;
export const DELETE = other.refuse;
export const OPTIONS = other.options;
