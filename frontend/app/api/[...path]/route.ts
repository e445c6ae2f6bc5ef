import type { NextRequest } from "next/server";
import { forwardToBackend } from "@/lib/server/forward";
import { CHAT_TIMEOUT_DETAIL, backendUrl, buildBackendUrl, chatTimeoutMs, isChatTurn } from "@/lib/server/proxy";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ path: string[] }> };

async function handle(request: NextRequest, { params }: Context) {
  const { path } = await params;
  const options = isChatTurn(request.method, path)
    ? { timeoutMs: chatTimeoutMs(), resend: false, timeoutDetail: CHAT_TIMEOUT_DETAIL }
    : {};
  return forwardToBackend(request, () => buildBackendUrl(backendUrl(), path, request.nextUrl.search), options);
}

export const GET = handle;
export const POST = handle;
export const PUT = handle;
export const PATCH = handle;
export const DELETE = handle;
