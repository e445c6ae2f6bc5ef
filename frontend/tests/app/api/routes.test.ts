import { NextRequest } from "next/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as catchAll from "@/app/api/[...path]/route";
import * as health from "@/app/api/health/route";
import * as login from "@/app/api/auth/login/route";
import * as logout from "@/app/api/auth/logout/route";
import * as ready from "@/app/api/ready/route";
import { REWRITTEN_MARK, installForwardedForRewrite, rewriteMark } from "@/lib/server/clientAddress";

const BACKEND = "http://backend.test:8000";
const JSON_TYPE = { "content-type": "application/json" };
let fetchMock: ReturnType<typeof vi.fn>;

function request(url: string, init: ConstructorParameters<typeof NextRequest>[1] = {}) {
  return new NextRequest(new URL(url, "http://frontend.test"), init);
}

function context(path: string[]) {
  return { params: Promise.resolve({ path }) };
}

/** What undici throws when a kept-alive connection is closed under a request. */
function socketClosed(code = "UND_ERR_SOCKET"): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code }) });
}

function lastCall(): [string, RequestInit] {
  return fetchMock.mock.calls.at(-1) as [string, RequestInit];
}

beforeEach(() => {
  vi.stubEnv("BACKEND_URL", BACKEND);
  fetchMock = vi.fn();
  vi.stubGlobal("fetch", fetchMock);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("catch-all proxy", () => {
  it("forwards to BACKEND_URL/api/<path> with the session as a bearer token", async () => {
    fetchMock.mockResolvedValue(Response.json({ items: [], total: 0, limit: 50, offset: 0 }));
    const res = await catchAll.GET(
      request("/api/tasks?q=milk", { headers: { cookie: "todo_session=tok123" } }),
      context(["tasks"]),
    );
    const [url, init] = lastCall();
    expect(url).toBe(`${BACKEND}/api/tasks?q=milk`);
    expect(new Headers(init.headers).get("authorization")).toBe("Bearer tok123");
    expect(new Headers(init.headers).get("cookie")).toBeNull();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
  });

  it("reads BACKEND_URL at request time", async () => {
    fetchMock.mockResolvedValue(Response.json({}));
    vi.stubEnv("BACKEND_URL", "http://elsewhere:9000");
    await catchAll.GET(request("/api/auth/me"), context(["auth", "me"]));
    expect(lastCall()[0]).toBe("http://elsewhere:9000/api/auth/me");
  });

  it("passes the method, body, status and JSON error through", async () => {
    fetchMock.mockResolvedValue(Response.json({ detail: "title must not be blank" }, { status: 422 }));
    const res = await catchAll.PATCH(
      request("/api/tasks/4", { method: "PATCH", body: '{"title":" "}', headers: { "content-type": "application/json" } }),
      context(["tasks", "4"]),
    );
    const [, init] = lastCall();
    expect(init.method).toBe("PATCH");
    expect(init.body).toBe('{"title":" "}');
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: "title must not be blank" });
  });

  it("relays 204 without a body", async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
    const res = await catchAll.DELETE(request("/api/tasks/4", { method: "DELETE" }), context(["tasks", "4"]));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
  });

  it("resends a GET once on a fresh connection when the first one was closed under it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValueOnce(socketClosed()).mockResolvedValueOnce(Response.json({ items: [] }));
    const res = await catchAll.GET(
      request("/api/tasks?q=x", { headers: { cookie: "todo_session=secret-token" } }),
      context(["tasks"]),
    );
    expect(res.status).toBe(200);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(logged).toHaveBeenCalledTimes(1);
    const line = JSON.parse(String(logged.mock.calls[0][0]));
    expect(line).toEqual({
      level: "warning",
      event: "backend_request_failed",
      method: "GET",
      path: "/api/tasks",
      attempt: 1,
      error: "UND_ERR_SOCKET",
      retrying: true,
    });
    expect(String(logged.mock.calls[0][0])).not.toContain("secret-token");
  });

  it("does not resend a POST that may have reached the backend", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValueOnce(socketClosed()).mockResolvedValueOnce(Response.json({ id: 1 }, { status: 201 }));
    const res = await catchAll.POST(
      request("/api/tasks", { method: "POST", body: '{"title":"once"}', headers: { "content-type": "application/json" } }),
      context(["tasks"]),
    );
    expect(res.status).toBe(502);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(logged.mock.calls[0][0]))).toMatchObject({ level: "error", retrying: false });
  });

  it("resends a POST whose connection was refused, with the same body", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock
      .mockRejectedValueOnce(socketClosed("ECONNREFUSED"))
      .mockResolvedValueOnce(Response.json({ id: 1 }, { status: 201 }));
    const res = await catchAll.POST(
      request("/api/tasks", { method: "POST", body: '{"title":"once"}', headers: { "content-type": "application/json" } }),
      context(["tasks"]),
    );
    expect(res.status).toBe(201);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(fetchMock.mock.calls.map(([, init]) => (init as RequestInit).body)).toEqual([
      '{"title":"once"}',
      '{"title":"once"}',
    ]);
  });

  it("does not resend after a timeout", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValue(Object.assign(new Error("aborted"), { name: "TimeoutError" }));
    const res = await catchAll.GET(request("/api/tasks"), context(["tasks"]));
    expect(res.status).toBe(504);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("answers 502 with a clear message when the backend is unreachable", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValue(new TypeError("fetch failed"));
    const res = await catchAll.GET(request("/api/tasks"), context(["tasks"]));
    expect(res.status).toBe(502);
    expect((await res.json()).detail).toMatch(/backend is unreachable/i);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("refuses paths that would leave /api without calling the backend", async () => {
    const res = await catchAll.GET(request("/api/x"), context(["..", "readyz"]));
    expect(res.status).toBe(400);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("login", () => {
  it("stores the token in an httpOnly, SameSite=Lax cookie and does not return it", async () => {
    fetchMock.mockResolvedValue(Response.json({ access_token: "jwt.abc", token_type: "bearer", expires_in: 900 }));
    const res = await login.POST(request("/api/auth/login", { method: "POST", body: '{"email":"a@b.c","password":"pw"}', headers: JSON_TYPE }));
    expect(lastCall()[0]).toBe(`${BACKEND}/api/auth/login`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).not.toContain("jwt.abc");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^todo_session=jwt\.abc;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=900/);
    expect(cookie).not.toMatch(/Secure/i);
  });

  it("marks the cookie Secure behind https", async () => {
    fetchMock.mockResolvedValue(Response.json({ access_token: "t", token_type: "bearer", expires_in: 60 }));
    const res = await login.POST(
      request("/api/auth/login", { method: "POST", body: "{}", headers: { ...JSON_TYPE, "x-forwarded-proto": "https" } }),
    );
    expect(res.headers.get("set-cookie")).toMatch(/Secure/i);
  });

  it("passes a rejected login through without setting a cookie", async () => {
    fetchMock.mockResolvedValue(Response.json({ detail: "Incorrect email or password" }, { status: 401 }));
    const res = await login.POST(request("/api/auth/login", { method: "POST", body: "{}", headers: JSON_TYPE }));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Incorrect email or password" });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("passes a rate-limited login through with its Retry-After", async () => {
    const detail = "Too many failed logins for this account; wait 42 s (Retry-After) and try again.";
    fetchMock.mockResolvedValue(Response.json({ detail }, { status: 429, headers: { "retry-after": "42" } }));
    const res = await login.POST(request("/api/auth/login", { method: "POST", body: "{}", headers: JSON_TYPE }));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("42");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ detail });
  });

  it("resends the login once when the connection was closed under it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock
      .mockRejectedValueOnce(socketClosed())
      .mockResolvedValueOnce(Response.json({ access_token: "jwt.new", expires_in: 600 }));
    const res = await login.POST(request("/api/auth/login", { method: "POST", body: '{"email":"a@b.c"}', headers: JSON_TYPE }));
    expect(res.status).toBe(200);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(res.cookies.get("todo_session")?.value).toBe("jwt.new");
  });

  it("answers 502 when the backend is down", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValue(new TypeError("fetch failed"));
    const res = await login.POST(request("/api/auth/login", { method: "POST", body: "{}", headers: JSON_TYPE }));
    expect(res.status).toBe(502);
  });
});

describe("logout", () => {
  it("revokes the session's token at the backend, then clears the cookie", async () => {
    let answerBackend: (response: Response) => void = () => undefined;
    fetchMock.mockReturnValue(new Promise<Response>((resolve) => (answerBackend = resolve)));
    let settled = false;
    const pending = logout
      .POST(request("/api/auth/logout", { method: "POST", headers: { cookie: "todo_session=jwt.abc" } }))
      .then((res) => {
        settled = true;
        return res;
      });

    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    const [url, init] = lastCall();
    expect(url).toBe(`${BACKEND}/api/auth/logout`);
    expect(init.method).toBe("POST");
    expect(new Headers(init.headers).get("authorization")).toBe("Bearer jwt.abc");
    // The cookie is only dropped once the backend has answered.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);

    answerBackend(new Response(null, { status: 204 }));
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/^todo_session=;.*Max-Age=0/);
  });

  it("without a session only clears the cookie", async () => {
    const res = await logout.POST(request("/api/auth/logout", { method: "POST" }));
    expect(fetchMock).not.toHaveBeenCalled();
    expect(res.headers.get("set-cookie")).toMatch(/^todo_session=;/);
  });

  it("resends the revocation once when the connection was closed under it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValueOnce(socketClosed()).mockResolvedValueOnce(new Response(null, { status: 204 }));
    const res = await logout.POST(request("/api/auth/logout", { method: "POST", headers: { cookie: "todo_session=t" } }));
    expect(res.status).toBe(200);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(new Headers(lastCall()[1].headers).get("authorization")).toBe("Bearer t");
  });

  it("clears the cookie even when the backend is unreachable", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    fetchMock.mockRejectedValue(new TypeError("fetch failed"));
    const res = await logout.POST(request("/api/auth/logout", { method: "POST", headers: { cookie: "todo_session=t" } }));
    expect(res.status).toBe(200);
    expect(new Headers(lastCall()[1].headers).get("authorization")).toBe("Bearer t");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^todo_session=;/);
    expect(cookie).toMatch(/Max-Age=0/);
  });
});

describe("the client's address", () => {
  /** Headers as the X-Forwarded-For rewrite leaves them for a browser at `address`. */
  function rewritten(address: string, extra: Record<string, string> = {}) {
    installForwardedForRewrite({ TRUSTED_PROXIES: "" });
    return { ...JSON_TYPE, ...extra, "x-forwarded-for": address, [REWRITTEN_MARK]: rewriteMark() as string };
  }

  function forwardedFor(): string | null {
    return new Headers(lastCall()[1].headers).get("x-forwarded-for");
  }

  it("goes with a login, so two clients through the proxy reach the backend as two addresses", async () => {
    fetchMock.mockImplementation(async () => Response.json({ detail: "Incorrect email or password" }, { status: 401 }));
    const body = '{"email":"a@b.c","password":"pw"}';
    await login.POST(request("/api/auth/login", { method: "POST", body, headers: rewritten("198.51.100.1") }));
    expect(forwardedFor()).toBe("198.51.100.1");
    await login.POST(request("/api/auth/login", { method: "POST", body, headers: rewritten("198.51.100.2") }));
    expect(forwardedFor()).toBe("198.51.100.2");
    expect(new Headers(lastCall()[1].headers).get("content-type")).toBe("application/json");
  });

  it("goes with every proxied call (registration is limited per client too)", async () => {
    fetchMock.mockResolvedValue(Response.json({ id: 1 }, { status: 201 }));
    await catchAll.POST(
      request("/api/auth/register", { method: "POST", body: "{}", headers: rewritten("198.51.100.3") }),
      context(["auth", "register"]),
    );
    expect(forwardedFor()).toBe("198.51.100.3");
  });

  it("is not forwarded from a header the rewrite did not mark, so a client cannot write its own", async () => {
    fetchMock.mockResolvedValue(Response.json({ access_token: "t" }));
    installForwardedForRewrite({ TRUSTED_PROXIES: "" });
    for (const headers of [
      { ...JSON_TYPE, "x-forwarded-for": "6.6.6.6" },
      { ...JSON_TYPE, "x-forwarded-for": "6.6.6.6", [REWRITTEN_MARK]: "guessed" },
    ]) {
      await login.POST(request("/api/auth/login", { method: "POST", body: "{}", headers }));
      expect(forwardedFor()).toBeNull();
      await catchAll.GET(request("/api/tasks", { headers }), context(["tasks"]));
      expect(forwardedFor()).toBeNull();
    }
  });
});

describe("health and readiness", () => {
  it("reports frontend liveness without calling the backend", async () => {
    const res = health.GET();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("relays the backend /readyz status code", async () => {
    fetchMock.mockResolvedValue(Response.json({ status: "unavailable" }, { status: 503 }));
    const res = await ready.GET(request("/api/ready"));
    expect(lastCall()[0]).toBe(`${BACKEND}/readyz`);
    expect(res.status).toBe(503);
  });
});

describe("methods a route does not take", () => {
  it("answer 405 naming the ones it does, as HTTP requires and the backend does", async () => {
    for (const [route, allow] of [
      [login, "POST, OPTIONS"],
      [logout, "POST, OPTIONS"],
      [ready, "GET, HEAD, OPTIONS"],
      [health, "GET, HEAD, OPTIONS"],
    ] as const) {
      const res = await route.PUT(request("/api/x", { method: "PUT" }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect((await res.json()).detail).toMatch(/^The method PUT is not allowed here/);
      expect((await route.OPTIONS()).headers.get("allow")).toBe(allow);
    }
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
