// The route handlers' defences (issue 15): body-size limit, JSON-only bodies, cross-site refusal,
// and the chat turn's own timeout without resends. Called directly, with fetch to the backend mocked.
import { NextRequest } from "next/server";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as catchAll from "@/app/api/[...path]/route";
import * as login from "@/app/api/auth/login/route";
import * as logout from "@/app/api/auth/logout/route";

const BACKEND = "http://backend.test:8000";
const JSON_TYPE = { "content-type": "application/json" };
let fetchMock: ReturnType<typeof vi.fn>;

function request(url: string, init: ConstructorParameters<typeof NextRequest>[1] = {}) {
  return new NextRequest(new URL(url, "http://frontend.test"), init);
}

function context(path: string[]) {
  return { params: Promise.resolve({ path }) };
}

/** A body that arrives in `chunks` pieces of `size` bytes, counting how many the handler pulled. */
function streamedBody(chunks: number, size = 64 * 1024) {
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= chunks) {
        controller.close();
        return;
      }
      counter.pulled += 1;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
  return { stream, counter };
}

function post(url: string, body: BodyInit | null, headers: Record<string, string> = JSON_TYPE) {
  return request(url, { method: "POST", body, headers, duplex: "half" } as ConstructorParameters<typeof NextRequest>[1]);
}

beforeEach(() => {
  vi.stubEnv("BACKEND_URL", BACKEND);
  fetchMock = vi.fn(async () => Response.json({ id: 1 }, { status: 201 }));
  vi.stubGlobal("fetch", fetchMock);
});

describe("request body limit", () => {
  it("refuses a declared Content-Length over MAX_BODY_BYTES with 413 before reading the body", async () => {
    const { stream, counter } = streamedBody(4000);
    const res = await catchAll.POST(
      post("/api/auth/register", stream, { ...JSON_TYPE, "content-length": String(200 * 1024 * 1024) }),
      context(["auth", "register"]),
    );
    expect(res.status).toBe(413);
    expect((await res.json()).detail).toMatch(/larger than 1048576 bytes.*MAX_BODY_BYTES/);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(counter.pulled).toBeLessThanOrEqual(1);
  });

  it("stops reading a streamed body once it passes the limit", async () => {
    // 200 chunks of 64 KiB = 12.5 MiB, against the 1 MiB default.
    const { stream, counter } = streamedBody(200);
    const res = await catchAll.POST(post("/api/auth/register", stream), context(["auth", "register"]));
    expect(res.status).toBe(413);
    expect(fetchMock).not.toHaveBeenCalled();
    expect(counter.pulled).toBeLessThanOrEqual(18);
  });

  it("takes the limit from MAX_BODY_BYTES and forwards a body exactly at it", async () => {
    vi.stubEnv("MAX_BODY_BYTES", "16");
    const atLimit = '{"title":"1234"}';
    expect(atLimit.length).toBe(16);
    expect((await catchAll.POST(post("/api/tasks", atLimit), context(["tasks"]))).status).toBe(201);
    expect(fetchMock.mock.calls[0][1].body).toBe(atLimit);
    expect((await catchAll.POST(post("/api/tasks", '{"title":"12345"}'), context(["tasks"]))).status).toBe(413);
  });

  it("applies to login and to the chat turn as well", async () => {
    vi.stubEnv("MAX_BODY_BYTES", "8");
    expect((await login.POST(post("/api/auth/login", '{"email":"a@b.c"}'))).status).toBe(413);
    expect((await catchAll.POST(post("/api/chat", '{"message":"hi"}'), context(["chat"]))).status).toBe(413);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("JSON bodies only", () => {
  it("refuses a text/plain login with 415, so a cross-site form cannot pose as JSON", async () => {
    const res = await login.POST(post("/api/auth/login", '{"email":"a@b.c","password":"pw"}', { "content-type": "text/plain" }));
    expect(res.status).toBe(415);
    expect((await res.json()).detail).toMatch(/Content-Type: application\/json/);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("refuses a login without a Content-Type", async () => {
    expect((await login.POST(post("/api/auth/login", '{"email":"a@b.c"}', {}))).status).toBe(415);
  });

  it("lets a login without a body through, so the backend answers the 422 its API declares", async () => {
    fetchMock.mockResolvedValue(Response.json({ detail: [{ type: "missing", loc: ["body"], msg: "Field required" }] }, { status: 422 }));
    const res = await login.POST(request("/api/auth/login", { method: "POST" }));
    expect(res.status).toBe(422);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("accepts application/json with a charset", async () => {
    fetchMock.mockResolvedValue(Response.json({ access_token: "t", expires_in: 60 }));
    const res = await login.POST(post("/api/auth/login", "{}", { "content-type": "application/json; charset=utf-8" }));
    expect(res.status).toBe(200);
  });

  it("refuses form-encoded and text bodies on the proxied routes", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await catchAll.POST(post("/api/tasks", "title=x", { "content-type": type }), context(["tasks"]));
      expect(res.status).toBe(415);
    }
    const untyped = await catchAll.POST(post("/api/tasks", '{"title":"x"}', {}), context(["tasks"]));
    expect(untyped.status).toBe(415);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("lets a bodiless POST through without a Content-Type", async () => {
    const res = await catchAll.POST(request("/api/tasks/3/toggle", { method: "POST" }), context(["tasks", "3", "toggle"]));
    expect(res.status).toBe(201);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});

describe("cross-site requests", () => {
  const credentials = '{"email":"attacker@evil.example","password":"pw"}';

  it("refuses a login posted from another site with 403", async () => {
    const res = await login.POST(
      post("/api/auth/login", credentials, { ...JSON_TYPE, host: "127.0.0.1:30000", origin: "https://evil.example" }),
    );
    expect(res.status).toBe(403);
    expect((await res.json()).detail).toMatch(/https:\/\/evil\.example.*ALLOWED_ORIGINS/);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("refuses an opaque origin and a browser's cross-site marker without an Origin", async () => {
    const fromNull = await login.POST(post("/api/auth/login", credentials, { ...JSON_TYPE, host: "h:1", origin: "null" }));
    expect(fromNull.status).toBe(403);
    const marked = await login.POST(post("/api/auth/login", credentials, { ...JSON_TYPE, "sec-fetch-site": "cross-site" }));
    expect(marked.status).toBe(403);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("accepts the app's own origin behind the NodePort, on either loopback name", async () => {
    fetchMock.mockImplementation(async () => Response.json({ access_token: "t", expires_in: 60 }));
    for (const host of ["127.0.0.1:30000", "localhost:30000"]) {
      const res = await login.POST(
        post("/api/auth/login", credentials, {
          ...JSON_TYPE,
          host,
          origin: `http://${host}`,
          "sec-fetch-site": "same-origin",
        }),
      );
      expect(res.status).toBe(200);
    }
  });

  it("accepts a public origin from ALLOWED_ORIGINS and the host a proxy forwarded", async () => {
    vi.stubEnv("ALLOWED_ORIGINS", "https://todo.example.com, https://other.example.com/");
    const viaList = await catchAll.POST(
      post("/api/tasks", "{}", { ...JSON_TYPE, host: "todo-frontend:3000", origin: "https://todo.example.com" }),
      context(["tasks"]),
    );
    expect(viaList.status).toBe(201);
    const viaForwarded = await catchAll.POST(
      post("/api/tasks", "{}", {
        ...JSON_TYPE,
        host: "todo-frontend:3000",
        "x-forwarded-host": "tasks.example.org",
        origin: "https://tasks.example.org",
      }),
      context(["tasks"]),
    );
    expect(viaForwarded.status).toBe(201);
  });

  it("accepts clients that send no Origin at all (curl, the smoke role)", async () => {
    const res = await catchAll.POST(
      post("/api/auth/register", credentials, { ...JSON_TYPE, host: "127.0.0.1:30000" }),
      context(["auth", "register"]),
    );
    expect(res.status).toBe(201);
  });

  it("refuses every state-changing method from another site, but not reads", async () => {
    const evil = { host: "127.0.0.1:30000", origin: "http://evil.example" };
    const patch = request("/api/tasks/1", { method: "PATCH", body: "{}", headers: { ...JSON_TYPE, ...evil } });
    expect((await catchAll.PATCH(patch, context(["tasks", "1"]))).status).toBe(403);
    const put = request("/api/tasks/1", { method: "PUT", body: "{}", headers: { ...JSON_TYPE, ...evil } });
    expect((await catchAll.PUT(put, context(["tasks", "1"]))).status).toBe(403);
    const del = request("/api/tasks/1", { method: "DELETE", headers: evil });
    expect((await catchAll.DELETE(del, context(["tasks", "1"]))).status).toBe(403);
    const chat = post("/api/chat", '{"message":"delete all my tasks"}', { ...JSON_TYPE, ...evil });
    expect((await catchAll.POST(chat, context(["chat"]))).status).toBe(403);
    expect(fetchMock).not.toHaveBeenCalled();
    const get = request("/api/tasks", { headers: evil });
    expect((await catchAll.GET(get, context(["tasks"]))).status).toBe(201);
  });

  it("refuses a cross-site logout and keeps the session", async () => {
    const res = await logout.POST(
      request("/api/auth/logout", {
        method: "POST",
        headers: { cookie: "todo_session=t", host: "127.0.0.1:30000", origin: "http://evil.example" },
      }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("chat turn", () => {
  /** A backend that never answers: fetch settles only when its signal aborts. */
  function hangingBackend() {
    fetchMock.mockImplementation(
      (_url: string, init: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
  }

  it("gives up after PROXY_CHAT_TIMEOUT_MS with 504 saying the action may have completed", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.stubEnv("PROXY_CHAT_TIMEOUT_MS", "50");
    hangingBackend();
    const res = await catchAll.POST(post("/api/chat", '{"message":"add milk"}'), context(["chat"]));
    expect(res.status).toBe(504);
    expect((await res.json()).detail).toMatch(/may still have completed.*check the task list before sending/i);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("is never resent, not even when the connection was refused", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) });
    fetchMock.mockRejectedValueOnce(refused).mockResolvedValueOnce(Response.json({ conversation_id: 1 }));
    const res = await catchAll.POST(post("/api/chat", '{"message":"add milk"}'), context(["chat"]));
    expect(res.status).toBe(502);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
