import type { NextRequest } from "next/server";
import { forwardToBackend } from "@/lib/server/forward";
import { backendUrl, buildBackendUrl } from "@/lib/server/proxy";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ path: string[] }> };

async function handle(request: NextRequest, { params }: Context) {
  const { path } = await params;
  return forwardToBackend(request, () => buildBackendUrl(backendUrl(), path, request.nextUrl.search));
}

export const GET = handle;
export const POST = handle;
export const PUT = handle;
export const PATCH = handle;
export const DELETE = handle;
