// fetchBackend against a real HTTP server on loopback, with Node's own fetch (undici): the errors
// it classifies are the ones a closing backend pod really produces, not hand-made lookalikes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fetchBackend } from "@/lib/server/forward";

let server: Server;
let base: string;
let seen: string[];
/** How the server treats the n-th request (0-based): "drop" closes the socket without answering. */
let plan: ("drop" | "answer")[];

beforeEach(async () => {
  seen = [];
  plan = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const index = seen.push(`${req.method} ${req.url}`) - 1;
    req.resume();
    req.on("end", () => {
      if ((plan[index] ?? "answer") === "drop") {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ attempt: index + 1 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("fetchBackend on a real socket", () => {
  it("answers a GET whose first connection was closed without a response", async () => {
    plan = ["drop", "answer"];
    const res = await fetchBackend(`${base}/readyz`, { method: "GET" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ attempt: 2 });
    expect(seen).toEqual(["GET /readyz", "GET /readyz"]);
    const line = JSON.parse(String(vi.mocked(console.error).mock.calls[0][0]));
    expect(line).toMatchObject({ path: "/readyz", attempt: 1, retrying: true });
    expect(line.error).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
  });

  it("sends a POST only once when its connection was closed after the request went out", async () => {
    plan = ["drop", "answer"];
    await expect(fetchBackend(`${base}/api/tasks`, { method: "POST", body: "{}" })).rejects.toThrow(/fetch failed/);
    expect(seen).toEqual(["POST /api/tasks"]);
  });

  it("gives up after the second attempt", async () => {
    plan = ["drop", "drop", "answer"];
    await expect(fetchBackend(`${base}/api/tasks`, { method: "GET" })).rejects.toThrow(/fetch failed/);
    expect(seen).toHaveLength(2);
  });

  it("resends a POST when nothing listens, so the request never reached a backend", async () => {
    const closedPort = (server.address() as AddressInfo).port;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(fetchBackend(`http://127.0.0.1:${closedPort}/api/tasks`, { method: "POST", body: "{}" })).rejects.toThrow(
      /fetch failed/,
    );
    const lines = vi.mocked(console.error).mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(lines.map((l) => [l.attempt, l.error, l.retrying])).toEqual([
      [1, "ECONNREFUSED", true],
      [2, "ECONNREFUSED", false],
    ]);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  it("logs the failure of a malformed backend URL without its text", async () => {
    await expect(fetchBackend("http//user:secret@backend", { method: "GET" })).rejects.toThrow();
    const lines = vi.mocked(console.error).mock.calls.map(([line]) => String(line));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1])).toMatchObject({ path: "(unparsable BACKEND_URL)", attempt: 2, retrying: false });
    expect(lines.join("\n")).not.toContain("secret");
  });
});
