import { describe, expect, it } from "vitest";
import {
  DEFAULT_BACKEND_URL,
  InvalidPathError,
  backendUrl,
  buildBackendUrl,
  clearedCookieOptions,
  forwardRequestHeaders,
  forwardResponseHeaders,
  isHttpsRequest,
  isRetriable,
  mapUpstreamError,
  methodHasBody,
  sessionCookieOptions,
  upstreamErrorCode,
} from "@/lib/server/proxy";

/** What undici throws: TypeError("fetch failed") with the socket error as its cause. */
function fetchFailed(code: string): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) });
}

function timeout(): Error {
  return Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
}

describe("backendUrl", () => {
  it("defaults to the local backend when BACKEND_URL is unset or blank", () => {
    expect(backendUrl({})).toBe(DEFAULT_BACKEND_URL);
    expect(backendUrl({ BACKEND_URL: "  " })).toBe(DEFAULT_BACKEND_URL);
  });

  it("uses BACKEND_URL without trailing slashes", () => {
    expect(backendUrl({ BACKEND_URL: "http://backend:8000//" })).toBe("http://backend:8000");
  });
});

describe("buildBackendUrl", () => {
  it("maps the catch-all segments under /api and keeps the query string", () => {
    expect(buildBackendUrl("http://b:8000", ["tasks", "7", "toggle"], "")).toBe("http://b:8000/api/tasks/7/toggle");
    expect(buildBackendUrl("http://b:8000/", ["tasks"], "?q=milk&sort=due")).toBe("http://b:8000/api/tasks?q=milk&sort=due");
    expect(buildBackendUrl("http://b:8000", ["tasks"], "status=active")).toBe("http://b:8000/api/tasks?status=active");
  });

  it("re-encodes segments so they cannot smuggle extra path or query", () => {
    expect(buildBackendUrl("http://b", ["tasks", "a/b?x=1"])).toBe("http://b/api/tasks/a%2Fb%3Fx%3D1");
  });

  it("refuses dot segments that would climb out of /api", () => {
    expect(() => buildBackendUrl("http://b", ["..", "healthz"])).toThrow(InvalidPathError);
    expect(() => buildBackendUrl("http://b", ["tasks", "."])).toThrow(InvalidPathError);
  });
});

describe("forwardRequestHeaders", () => {
  it("adds the bearer token and keeps only the allow-listed headers", () => {
    const incoming = new Headers({
      "content-type": "application/json",
      cookie: "todo_session=secret",
      host: "frontend",
      "x-request-id": "abc",
    });
    const out = forwardRequestHeaders(incoming, "jwt-token");
    expect(out.get("authorization")).toBe("Bearer jwt-token");
    expect(out.get("content-type")).toBe("application/json");
    expect(out.get("x-request-id")).toBe("abc");
    expect(out.get("cookie")).toBeNull();
    expect(out.get("host")).toBeNull();
    expect(out.get("accept")).toBe("application/json");
  });

  it("sends no Authorization header without a session", () => {
    expect(forwardRequestHeaders(new Headers(), undefined).has("authorization")).toBe(false);
  });

  it("ignores an Authorization header sent by the browser", () => {
    const out = forwardRequestHeaders(new Headers({ authorization: "Bearer forged" }), undefined);
    expect(out.has("authorization")).toBe(false);
  });
});

describe("forwardResponseHeaders", () => {
  it("relays content type and retry hints but not backend cookies or server banners", () => {
    const out = forwardResponseHeaders(
      new Headers({ "content-type": "application/json", "retry-after": "5", "set-cookie": "x=1", server: "uvicorn" }),
    );
    expect(out.get("content-type")).toBe("application/json");
    expect(out.get("retry-after")).toBe("5");
    expect(out.get("set-cookie")).toBeNull();
    expect(out.get("server")).toBeNull();
  });

  it("relays the Allow of a 405, which names the methods the operation takes", () => {
    expect(forwardResponseHeaders(new Headers({ allow: "GET, POST" })).get("allow")).toBe("GET, POST");
  });
});

describe("session cookie options", () => {
  it("is httpOnly, SameSite=Lax, path=/ and lives as long as the token", () => {
    expect(sessionCookieOptions(false, 3600)).toEqual({
      httpOnly: true,
      sameSite: "lax",
      secure: false,
      path: "/",
      maxAge: 3600,
    });
  });

  it("is Secure when the request came over https", () => {
    expect(sessionCookieOptions(true, 60).secure).toBe(true);
  });

  it("falls back to one hour when the backend gives no usable expiry", () => {
    expect(sessionCookieOptions(false).maxAge).toBe(3600);
    expect(sessionCookieOptions(false, -5).maxAge).toBe(3600);
    expect(sessionCookieOptions(false, Number.NaN).maxAge).toBe(3600);
  });

  it("clears the cookie with maxAge 0 and the same attributes", () => {
    expect(clearedCookieOptions(true)).toMatchObject({ maxAge: 0, secure: true, httpOnly: true, path: "/" });
  });
});

describe("isHttpsRequest", () => {
  it("trusts X-Forwarded-Proto from a TLS-terminating proxy", () => {
    expect(isHttpsRequest("http://pod:3000/api/auth/login", new Headers({ "x-forwarded-proto": "https" }))).toBe(true);
    expect(isHttpsRequest("https://x/api", new Headers({ "x-forwarded-proto": "http, https" }))).toBe(false);
  });

  it("falls back to the request URL scheme", () => {
    expect(isHttpsRequest("https://todo.example/api/auth/login", new Headers())).toBe(true);
    expect(isHttpsRequest("http://127.0.0.1:3000/api/auth/login", new Headers())).toBe(false);
  });
});

describe("mapUpstreamError", () => {
  it("maps a refused connection to 502 with a clear message", () => {
    const mapped = mapUpstreamError(new TypeError("fetch failed"));
    expect(mapped.status).toBe(502);
    expect(mapped.body.detail).toMatch(/backend is unreachable/i);
  });

  it("maps a timeout to 504", () => {
    expect(mapUpstreamError(new DOMException("timed out", "TimeoutError")).status).toBe(504);
  });

  it("maps a bad path to 400", () => {
    expect(mapUpstreamError(new InvalidPathError("..")).status).toBe(400);
  });
});

describe("methodHasBody", () => {
  it("forwards bodies for writes only", () => {
    expect(["POST", "PUT", "PATCH"].map(methodHasBody)).toEqual([true, true, true]);
    expect(["GET", "HEAD", "DELETE"].map(methodHasBody)).toEqual([false, false, false]);
  });
});

describe("upstreamErrorCode", () => {
  it("finds the socket error code in the fetch error's cause", () => {
    expect(upstreamErrorCode(fetchFailed("UND_ERR_SOCKET"))).toBe("UND_ERR_SOCKET");
    const nested = new TypeError("fetch failed", { cause: new Error("wrapper", { cause: fetchFailed("ECONNRESET") }) });
    expect(upstreamErrorCode(nested)).toBe("ECONNRESET");
  });

  it("falls back to the error's name when no code is given", () => {
    expect(upstreamErrorCode(new TypeError("fetch failed"))).toBe("TypeError");
    expect(upstreamErrorCode(timeout())).toBe("TimeoutError");
    expect(upstreamErrorCode("not an error")).toBe("UnknownError");
  });
});

describe("isRetriable", () => {
  it("resends safe methods after a connection was lost", () => {
    for (const method of ["GET", "get", "HEAD", "OPTIONS"]) {
      expect(isRetriable(method, fetchFailed("UND_ERR_SOCKET"))).toBe(true);
      expect(isRetriable(method, fetchFailed("ECONNRESET"))).toBe(true);
    }
  });

  it("does not resend a write whose request may have reached the backend", () => {
    for (const method of ["POST", "PATCH", "PUT", "DELETE"]) {
      expect(isRetriable(method, fetchFailed("UND_ERR_SOCKET"))).toBe(false);
      expect(isRetriable(method, fetchFailed("ECONNRESET"))).toBe(false);
      expect(isRetriable(method, new TypeError("fetch failed"))).toBe(false);
    }
  });

  it("resends any method when the connection was never made", () => {
    expect(isRetriable("POST", fetchFailed("ECONNREFUSED"))).toBe(true);
    expect(isRetriable("DELETE", fetchFailed("EHOSTUNREACH"))).toBe(true);
  });

  it("resends a write marked idempotent", () => {
    expect(isRetriable("POST", fetchFailed("UND_ERR_SOCKET"), true)).toBe(true);
  });

  it("never resends timeouts, bad paths or non-errors", () => {
    expect(isRetriable("GET", timeout())).toBe(false);
    expect(isRetriable("GET", new InvalidPathError(".."))).toBe(false);
    expect(isRetriable("GET", "boom")).toBe(false);
  });
});
