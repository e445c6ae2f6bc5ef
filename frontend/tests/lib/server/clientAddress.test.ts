import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  FORWARDED_FOR,
  REQUEST_START_CHANNEL,
  REWRITTEN_MARK,
  clientForwardedFor,
  forwardedChain,
  installForwardedForRewrite,
  plainAddress,
  rewriteMark,
  rewriteRequest,
  trustedProxies,
} from "@/lib/server/clientAddress";

const noReport = () => undefined;

describe("trustedProxies", () => {
  it("reads addresses and CIDRs of both families", () => {
    const list = trustedProxies({ TRUSTED_PROXIES: " 10.244.0.0/16, 192.0.2.7 ,fd00::/8" }, noReport);
    expect(list.check("10.244.3.9", "ipv4")).toBe(true);
    expect(list.check("10.245.0.1", "ipv4")).toBe(false);
    expect(list.check("192.0.2.7", "ipv4")).toBe(true);
    expect(list.check("192.0.2.8", "ipv4")).toBe(false);
    expect(list.check("fd12::1", "ipv6")).toBe(true);
  });

  it("trusts no one when unset or empty", () => {
    for (const env of [{}, { TRUSTED_PROXIES: "" }, { TRUSTED_PROXIES: " , " }]) {
      expect(trustedProxies(env, noReport).check("127.0.0.1", "ipv4")).toBe(false);
    }
  });

  it("leaves out and reports what is not an address or CIDR, '*' included", () => {
    const report = vi.fn();
    const list = trustedProxies({ TRUSTED_PROXIES: "*,frontend,10.0.0.0/33,10.0.0.0/,1.2.3.4/8/9,127.0.0.1" }, report);
    expect(report.mock.calls.map(([entry]) => entry)).toEqual(["*", "frontend", "10.0.0.0/33", "10.0.0.0/", "1.2.3.4/8/9"]);
    expect(list.check("127.0.0.1", "ipv4")).toBe(true);
    expect(list.check("10.0.0.1", "ipv4")).toBe(false);
    expect(list.check("8.8.8.8", "ipv4")).toBe(false);
  });
});

describe("forwardedChain", () => {
  const trusted = trustedProxies({ TRUSTED_PROXIES: "10.0.0.0/8" }, noReport);

  it("is the peer alone when the peer is not a trusted proxy, whatever the client wrote", () => {
    expect(forwardedChain("6.6.6.6", "198.51.100.1", trusted)).toBe("198.51.100.1");
    expect(forwardedChain(undefined, "198.51.100.1", trusted)).toBe("198.51.100.1");
  });

  it("appends the peer to the chain a trusted proxy sent", () => {
    expect(forwardedChain("198.51.100.1", "10.1.2.3", trusted)).toBe("198.51.100.1, 10.1.2.3");
    expect(forwardedChain(" ", "10.1.2.3", trusted)).toBe("10.1.2.3");
  });

  it("writes IPv4 peers of a dual-stack socket plainly", () => {
    expect(plainAddress("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(plainAddress("2001:db8::1")).toBe("2001:db8::1");
    expect(forwardedChain("198.51.100.1", "::ffff:10.1.2.3", trusted)).toBe("198.51.100.1, 10.1.2.3");
  });

  it("is nothing without a peer", () => {
    expect(forwardedChain("6.6.6.6", undefined, trusted)).toBeUndefined();
  });
});

/** A Node HTTP server on loopback that answers with the headers its handler saw. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ forwardedFor: req.headers[FORWARDED_FOR] ?? null, mark: req.headers[REWRITTEN_MARK] ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** GET / from the loopback address `from` (Linux answers on all of 127.0.0.0/8). */
function getFrom(port: number, from: string, headers: Record<string, string>): Promise<{ forwardedFor: string | null; mark: string | null }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/", localAddress: from, headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve(JSON.parse(body)));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the rewrite on a real HTTP server", () => {
  let server: Server | undefined;
  let hook: ((message: unknown) => void) | undefined;

  afterEach(async () => {
    if (hook) unsubscribe(REQUEST_START_CHANNEL, hook);
    hook = undefined;
    await new Promise((resolve) => server?.close(resolve));
  });

  function rewriteWith(env: Record<string, string>, mark: string) {
    const trusted = trustedProxies(env, noReport);
    hook = (message) => rewriteRequest((message as { request: IncomingMessage }).request, trusted, mark);
    subscribe(REQUEST_START_CHANNEL, hook);
  }

  it("gives two clients their own address, and a spoofed header from an untrusted peer is dropped", async () => {
    rewriteWith({ TRUSTED_PROXIES: "" }, "m1");
    let port: number;
    ({ server, port } = await echoServer());
    const spoof = { "x-forwarded-for": "6.6.6.6", [REWRITTEN_MARK]: "forged" };
    expect(await getFrom(port, "127.0.0.2", spoof)).toEqual({ forwardedFor: "127.0.0.2", mark: "m1" });
    expect(await getFrom(port, "127.0.0.3", spoof)).toEqual({ forwardedFor: "127.0.0.3", mark: "m1" });
  });

  it("keeps the chain of a trusted proxy in front and appends it", async () => {
    rewriteWith({ TRUSTED_PROXIES: "127.0.0.4" }, "m2");
    let port: number;
    ({ server, port } = await echoServer());
    const viaIngress = { "x-forwarded-for": "198.51.100.1" };
    expect((await getFrom(port, "127.0.0.4", viaIngress)).forwardedFor).toBe("198.51.100.1, 127.0.0.4");
    expect((await getFrom(port, "127.0.0.5", viaIngress)).forwardedFor).toBe("127.0.0.5");
  });
});

describe("installForwardedForRewrite and clientForwardedFor", () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("marks each rewritten request with this process's mark, which a client cannot guess", async () => {
    installForwardedForRewrite({ TRUSTED_PROXIES: "" });
    const mark = rewriteMark();
    expect(mark).toMatch(/^[0-9a-f]{32}$/);
    let port: number;
    ({ server, port } = await echoServer());
    const seen = await getFrom(port, "127.0.0.6", { "x-forwarded-for": "6.6.6.6", [REWRITTEN_MARK]: "guess" });
    expect(seen).toEqual({ forwardedFor: "127.0.0.6", mark });
    // Installing again changes nothing: one hook, one mark.
    installForwardedForRewrite({ TRUSTED_PROXIES: "127.0.0.0/8" });
    expect(rewriteMark()).toBe(mark);
    expect((await getFrom(port, "127.0.0.7", { "x-forwarded-for": "6.6.6.6" })).forwardedFor).toBe("127.0.0.7");
  });

  it("forwards the header only of requests that carry the mark", () => {
    installForwardedForRewrite({ TRUSTED_PROXIES: "" });
    const mark = rewriteMark() as string;
    expect(clientForwardedFor(new Headers({ "x-forwarded-for": "198.51.100.1", [REWRITTEN_MARK]: mark }))).toBe("198.51.100.1");
    expect(clientForwardedFor(new Headers({ "x-forwarded-for": "6.6.6.6", [REWRITTEN_MARK]: "forged" }))).toBeUndefined();
    expect(clientForwardedFor(new Headers({ "x-forwarded-for": "6.6.6.6" }))).toBeUndefined();
  });
});
