import { NextResponse } from "next/server";
import { onlyMethods } from "@/lib/server/allow";

export const dynamic = "force-dynamic";

/** Liveness of the frontend alone: it must not depend on the backend. */
export function GET() {
  return NextResponse.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}

const other = onlyMethods("GET");
export const POST = other.refuse;
export const PUT = other.refuse;
export const PATCH = other.refuse;
export const DELETE = other.refuse;
export const OPTIONS = other.options;
