import { NextResponse } from "next/server";

/**
 * Handlers for the methods a route does not take. Next answers those with a bare 405 that names
 * no allowed method, though HTTP requires an Allow header; a route exports these instead, so its
 * 405 says what it takes (as the backend's do) and OPTIONS lists only that.
 */
export function onlyMethods(...allowed: readonly string[]) {
  const allow = [...allowed, ...(allowed.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
  return {
    refuse: (request: Request) =>
      NextResponse.json(
        { detail: `The method ${request.method} is not allowed here; use ${allowed.join(" or ")}.` },
        { status: 405, headers: { allow } },
      ),
    options: () => new NextResponse(null, { status: 204, headers: { allow } }),
  };
}
