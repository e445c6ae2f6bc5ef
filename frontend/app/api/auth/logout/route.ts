import { NextResponse, type NextRequest } from "next/server";
import { onlyMethods } from "@/lib/server/allow";
import { fetchBackend } from "@/lib/server/forward";
import { checkSameOrigin } from "@/lib/server/guard";
import {
  SESSION_COOKIE,
  backendUrl,
  clearedCookieOptions,
  forwardRequestHeaders,
  isHttpsRequest,
  mapUpstreamError,
} from "@/lib/server/proxy";

export const dynamic = "force-dynamic";

/** Tell the backend (best effort) and always drop the cookie, so logout works even when it is down. */
export async function POST(request: NextRequest) {
  try {
    // Another site must not be able to end the visitor's session either.
    checkSameOrigin(request.method, request.headers);
  } catch (error) {
    const mapped = mapUpstreamError(error);
    return NextResponse.json(mapped.body, { status: mapped.status });
  }
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (token) {
    // Revoking the same token twice is harmless, so a lost connection is retried once.
    await fetchBackend(
      `${backendUrl()}/api/auth/logout`,
      { method: "POST", headers: forwardRequestHeaders(new Headers(), token) },
      { idempotent: true, timeoutMs: 5_000 },
    ).catch(() => undefined);
  }
  const response = NextResponse.json({ ok: true });
  response.cookies.set(SESSION_COOKIE, "", clearedCookieOptions(isHttpsRequest(request.url, request.headers)));
  return response;
}

const other = onlyMethods("POST");
export const GET = other.refuse;
export const PUT = other.refuse;
export const PATCH = other.refuse;
export const DELETE = other.refuse;
export const OPTIONS = other.options;
