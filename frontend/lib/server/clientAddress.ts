// The client's address for the backend's per-client limits. Route handlers never see the TCP
// peer, and Next only fills X-Forwarded-For in when the request has none, so a header the
// browser wrote itself would reach the backend as the truth. The Node server therefore rewrites
// the header before Next reads it (instrumentation.ts installs the hook): it keeps what came in
// only from TRUSTED_PROXIES, appends the peer, and marks the request as rewritten.

import { randomBytes } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

export const FORWARDED_FOR = "x-forwarded-for";
/** Carries this process's secret mark, so a route can tell a rewritten header from a copied one. */
export const REWRITTEN_MARK = "x-todo-forwarded-for-rewritten";
/** Published by Node's HTTP server for every request, before its "request" event. */
export const REQUEST_START_CHANNEL = "http.server.request.start";

const MARK_KEY = Symbol.for("todo-app.forwardedForMark");

type Env = Record<string, string | undefined>;

/** IPv4 peers of a dual-stack socket come as ::ffff:a.b.c.d; the backend expects a.b.c.d. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/**
 * TRUSTED_PROXIES, comma-separated addresses and CIDRs, as a BlockList to test peers against.
 * Entries that are neither (and "*", which would trust everyone) are left out and reported, so a
 * typo trusts less, never more.
 */
export function trustedProxies(env: Env = process.env, report: (entry: string) => void = reportIgnored): BlockList {
  const list = new BlockList();
  for (const raw of (env.TRUSTED_PROXIES ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address, prefix, extra] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    const valid =
      family !== 0 && extra === undefined && /^\d+$/.test(prefix ?? String(bits)) && bits <= (family === 6 ? 128 : 32);
    if (!valid) {
      report(entry);
      continue;
    }
    list.addSubnet(address, bits, family === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

function reportIgnored(entry: string): void {
  console.error(
    JSON.stringify({
      level: "error",
      event: "trusted_proxy_ignored",
      entry,
      detail: "TRUSTED_PROXIES lists IP addresses and CIDRs separated by commas; this entry is neither",
    }),
  );
}

export function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The X-Forwarded-For to send on: the incoming chain when the peer is a trusted proxy (it wrote
 * that chain), else nothing of it, since any client can send the header; then the peer itself.
 */
export function forwardedChain(incoming: string | undefined, peer: string | undefined, trusted: BlockList): string | undefined {
  if (!peer) return undefined;
  const address = plainAddress(peer);
  const kept = incoming?.trim() && isTrusted(trusted, address) ? incoming.trim() : "";
  return kept ? `${kept}, ${address}` : address;
}

/** This process's mark, once the rewrite is installed. */
export function rewriteMark(): string | undefined {
  return (globalThis as Record<symbol, string | undefined>)[MARK_KEY];
}

/** Rewrite X-Forwarded-For of one incoming request, and mark it as rewritten by this process. */
export function rewriteRequest(request: IncomingMessage, trusted: BlockList, mark: string): void {
  const incoming = request.headers[FORWARDED_FOR];
  const chain = forwardedChain(Array.isArray(incoming) ? incoming.join(", ") : incoming, request.socket?.remoteAddress, trusted);
  if (chain) request.headers[FORWARDED_FOR] = chain;
  else delete request.headers[FORWARDED_FOR];
  request.headers[REWRITTEN_MARK] = mark;
}

/**
 * Rewrite every request this process's HTTP servers receive, from now on. TRUSTED_PROXIES is read
 * once, here: it names the network in front of the pod, which does not change while it runs.
 */
export function installForwardedForRewrite(env: Env = process.env): void {
  if (rewriteMark()) return;
  const mark = randomBytes(16).toString("hex");
  const trusted = trustedProxies(env);
  subscribe(REQUEST_START_CHANNEL, (message) => {
    rewriteRequest((message as { request: IncomingMessage }).request, trusted, mark);
  });
  (globalThis as Record<symbol, string | undefined>)[MARK_KEY] = mark;
}

/**
 * The X-Forwarded-For for the backend call, or undefined when this request did not pass the
 * rewrite (it came before the hook was installed, or the hook is absent): the backend then sees
 * the frontend pod as the client, which shares limits but never lets a client pick its address.
 */
export function clientForwardedFor(headers: Headers): string | undefined {
  const mark = rewriteMark();
  if (!mark || headers.get(REWRITTEN_MARK) !== mark) return undefined;
  return headers.get(FORWARDED_FOR) ?? undefined;
}
