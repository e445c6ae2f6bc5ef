import { NextResponse, type NextRequest } from "next/server";
import {
  SESSION_COOKIE,
  UPSTREAM_TIMEOUT_MS,
  forwardRequestHeaders,
  forwardResponseHeaders,
  mapUpstreamError,
  methodHasBody,
} from "./proxy";

/** Send the browser's request to `target` with the session token, and relay the answer. */
export async function forwardToBackend(request: NextRequest, target: string | (() => string)): Promise<NextResponse> {
  try {
    const url = typeof target === "function" ? target() : target;
    const token = request.cookies.get(SESSION_COOKIE)?.value;
    const upstream = await fetch(url, {
      method: request.method,
      headers: forwardRequestHeaders(request.headers, token),
      body: methodHasBody(request.method) ? await request.text() : undefined,
      cache: "no-store",
      redirect: "manual",
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    return relay(upstream);
  } catch (error) {
    const mapped = mapUpstreamError(error);
    return NextResponse.json(mapped.body, { status: mapped.status });
  }
}

async function relay(upstream: Response): Promise<NextResponse> {
  const headers = forwardResponseHeaders(upstream.headers);
  if (upstream.status === 204 || upstream.status === 304) {
    return new NextResponse(null, { status: upstream.status, headers });
  }
  const body = await upstream.arrayBuffer();
  return new NextResponse(body, { status: upstream.status, headers });
}
