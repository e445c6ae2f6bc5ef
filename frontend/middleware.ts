import { NextResponse, type NextRequest } from "next/server";
import { newNonce, pageContentSecurityPolicy } from "@/lib/securityHeaders";

/**
 * A nonce CSP on every page. Next takes the nonce for its own inline scripts from the CSP on the
 * request it renders, so the policy goes on the request as well as on the response.
 */
export function middleware(request: NextRequest) {
  const csp = pageContentSecurityPolicy(newNonce(), process.env.NODE_ENV === "development");
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", csp);
  return response;
}

// Pages only: on a request with a body, Next buffers a copy for the middleware, which the API
// routes must not pay for (they bound their bodies themselves). Static files need no nonce.
export const config = { matcher: ["/((?!api(?:/|$)|_next/static/|_next/image|favicon\\.ico$|robots\\.txt$).*)"] };
