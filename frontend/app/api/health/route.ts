import { NextResponse } from "next/server";

export const dynamic = "force-dynamic";

/** Liveness of the frontend alone: it must not depend on the backend. */
export function GET() {
  return NextResponse.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
