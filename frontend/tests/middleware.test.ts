import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { config as middlewareConfig, middleware } from "@/middleware";
import { loginPath } from "@/lib/server/session";
import nextConfig from "@/next.config";

function page(path: string) {
  return new NextRequest(new URL(path, "http://frontend.test"));
}

function nonceOf(csp: string | null): string | undefined {
  return csp?.match(/'nonce-([^']+)'/)?.[1];
}

describe("page security headers (middleware)", () => {
  it("sends a nonce CSP that forbids framing, and hands the same nonce to Next's renderer", () => {
    const res = middleware(page("/login"));
    const csp = res.headers.get("content-security-policy");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
    const scriptSrc = csp?.split(";").find((d) => d.trim().startsWith("script-src"));
    expect(scriptSrc).not.toMatch(/unsafe-inline|unsafe-eval/);
    // NextResponse.next({ request: { headers } }) travels as x-middleware-request-* headers.
    const forwarded = res.headers.get("x-middleware-request-content-security-policy");
    expect(nonceOf(forwarded)).toBe(nonceOf(csp));
  });

  it("draws a fresh nonce for every response", () => {
    const a = nonceOf(middleware(page("/login")).headers.get("content-security-policy"));
    const b = nonceOf(middleware(page("/login")).headers.get("content-security-policy"));
    expect(a).toBeTruthy();
    expect(a).not.toBe(b);
  });

  it("runs on pages but not on the API, whose bodies it would otherwise buffer", () => {
    const matcher = new RegExp(`^${middlewareConfig.matcher[0]}$`);
    for (const path of ["/", "/chat", "/login", "/register", "/no-such-page"]) expect(matcher.test(path), path).toBe(true);
    for (const path of ["/api/auth/login", "/api/tasks", "/_next/static/chunks/app.js"]) expect(matcher.test(path), path).toBe(false);
  });
});

describe("loginPath", () => {
  it("is relative, so the browser stays on the address it used, and comes back with the query", () => {
    expect(loginPath("/")).toBe("/login?next=%2F");
    expect(loginPath("/chat", { conversation: "2", tag: ["a", "b"] })).toBe(
      "/login?next=%2Fchat%3Fconversation%3D2%26tag%3Da%26tag%3Db",
    );
  });
});

describe("headers on every response (next.config)", () => {
  it("sets nosniff, a referrer policy and a no-framing CSP on all paths, without X-Powered-By", async () => {
    expect(nextConfig.poweredByHeader).toBe(false);
    const rules = (await nextConfig.headers?.()) ?? [];
    const all = rules.find((rule) => rule.source === "/:path*");
    const byName = Object.fromEntries((all?.headers ?? []).map((h) => [h.key.toLowerCase(), h.value]));
    expect(byName["x-content-type-options"]).toBe("nosniff");
    expect(byName["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(byName["content-security-policy"]).toContain("frame-ancestors 'none'");
  });
});
