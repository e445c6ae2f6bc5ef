import type { NextRequest } from "next/server";
import { forwardToBackend } from "@/lib/server/forward";
import { backendUrl } from "@/lib/server/proxy";
import { onlyMethods } from "@/lib/server/allow";

export const dynamic = "force-dynamic";

/** Backend readiness, checked through the frontend: relays /readyz and its status code. */
export function GET(request: NextRequest) {
  return forwardToBackend(request, () => `${backendUrl()}/readyz`);
}

const other = onlyMethods("GET");
export const POST = other.refuse;
export const PUT = other.refuse;
export const PATCH = other.refuse;
export const DELETE = other.refuse;
export const OPTIONS = other.options;
