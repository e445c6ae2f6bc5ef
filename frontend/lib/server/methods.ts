// Node's HTTP server accepts many methods Next cannot serve: a TRACE request fails inside Next's
// router (the Fetch API refuses to build a Request with it) with a 500, and one such as QUERY or
// PROPFIND gets a 400. The server answers every method the app's routes do not take itself, with
// the 405 the backend gives, before Next sees the request. instrumentation.ts installs the guard.

import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { REQUEST_START_CHANNEL } from "./clientAddress";
import { SECURITY_HEADERS } from "../securityHeaders";

/** The methods this app's routes take; for one a route lacks, Next answers 405 with the route's own list. */
const SERVED = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];
export const SERVED_METHODS = SERVED.join(", ");
const SERVED_SET = new Set(SERVED);

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

/** Answer the requests of `server` whose method no route serves, before its handlers see them. */
export function refuseUnservedMethods(server: Server): void {
  const marked = server as Server & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  marked[GUARDED] = true;
  const emit = server.emit;
  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") {
      const [request, response] = args as [IncomingMessage, ServerResponse];
      if (!SERVED_SET.has(request.method ?? "")) {
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
    refuseUnservedMethods((message as { server: Server }).server);
  });
}
