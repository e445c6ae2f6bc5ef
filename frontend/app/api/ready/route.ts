import type { NextRequest } from "next/server";
import { forwardToBackend } from "@/lib/server/forward";
import { backendUrl } from "@/lib/server/proxy";

export const dynamic = "force-dynamic";

/** Backend readiness, checked through the frontend: relays /readyz and its status code. */
export function GET(request: NextRequest) {
  return forwardToBackend(request, () => `${backendUrl()}/readyz`);
}
