// Node's HTTP server accepts a TRACE request, but the Fetch API refuses to build a Request with that
// method, so Next fails inside its router, before any route runs, and answers 500. The server
// answers such a request itself instead, with the 405 the backend gives, before Next sees it.
// instrumentation.ts installs the guard.

import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { REQUEST_START_CHANNEL } from "./clientAddress";
import { SECURITY_HEADERS } from "../securityHeaders";

/** Methods Node hands to a request handler that `new Request()` throws on (CONNECT never gets there). */
const UNBUILDABLE_METHODS = new Set(["TRACE"]);

/** The methods this app's routes take; for any other, Next itself answers 405 with the route's own list. */
export const SERVED_METHODS = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE";

const GUARDED = Symbol.for("todo-app.methodGuard");

function methodNotAllowed(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify({ detail: `The method ${request.method} is not allowed here.` });
  response.writeHead(405, {
    ...Object.fromEntries(SECURITY_HEADERS.map(({ key, value }) => [key, value])),
    allow: SERVED_METHODS,
    "cache-control": "no-store",
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}

/** Answer the requests of `server` whose method no Request can carry, before its handlers see them. */
export function refuseUnbuildableMethods(server: Server): void {
  const marked = server as Server & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  marked[GUARDED] = true;
  const emit = server.emit;
  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") {
      const [request, response] = args as [IncomingMessage, ServerResponse];
      if (UNBUILDABLE_METHODS.has(request.method ?? "")) {
        methodNotAllowed(request, response);
        return true;
      }
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as Server["emit"];
}

/**
 * Guard every HTTP server of this process from now on. Node announces each request on
 * REQUEST_START_CHANNEL before it emits the request, so a server is guarded from its first one.
 */
export function installMethodGuard(): void {
  const installed = globalThis as Record<symbol, boolean | undefined>;
  if (installed[GUARDED]) return;
  installed[GUARDED] = true;
  subscribe(REQUEST_START_CHANNEL, (message) => {
    refuseUnbuildableMethods((message as { server: Server }).server);
  });
}
