import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installMethodGuard, refuseUnservedMethods } from "@/lib/server/methods";

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A server whose handler (standing for Next) answers 200 with the method it saw. */
async function serve(handler = vi.fn()): Promise<{ port: number; handler: ReturnType<typeof vi.fn> }> {
  server = createServer((req, res) => {
    handler(req.method);
    res.end(`handled ${req.method}`);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, handler };
}

function send(port: number, method: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path: "/api/tasks", agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("refuseUnservedMethods", () => {
  it("answers TRACE (Next: 500) and QUERY or PROPFIND (Next: 400) with a JSON 405 before the handler", async () => {
    const { port, handler } = await serve();
    refuseUnservedMethods(server as Server);
    for (const method of ["TRACE", "QUERY", "PROPFIND"]) {
      const res = await send(port, method);
      expect(res.status).toBe(405);
      expect(res.headers["content-type"]).toBe("application/json");
      expect(res.headers.allow).toBe("GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(JSON.parse(res.body)).toEqual({ detail: `The method ${method} is not allowed here.` });
    }
    expect(handler).not.toHaveBeenCalled();
  });

  it("passes every other method to the handler, and guards a server once however often it is called", async () => {
    const { port, handler } = await serve();
    refuseUnservedMethods(server as Server);
    refuseUnservedMethods(server as Server);
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      expect((await send(port, method)).status).toBe(200);
    }
    expect(handler.mock.calls.map(([method]) => method)).toEqual(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
  });
});

describe("installMethodGuard", () => {
  it("guards a server from its very first request on", async () => {
    installMethodGuard();
    const { port, handler } = await serve();
    expect((await send(port, "TRACE")).status).toBe(405);
    expect((await send(port, "GET")).status).toBe(200);
    expect(handler).toHaveBeenCalledTimes(1);
  });
});
