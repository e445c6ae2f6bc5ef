/**
 * Runs once, when the Next server prepares (before it handles its first request). On the Node
 * runtime it installs the rewrite of X-Forwarded-For (lib/server/clientAddress.ts); a request that
 * arrived before it is not marked, so its header is not forwarded. It also installs the 405 for
 * methods no route serves, which Next answers 500 (TRACE) or 400 (lib/server/methods.ts). The
 * edge build (middleware) compiles this branch away.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { installForwardedForRewrite } = await import("./lib/server/clientAddress");
    installForwardedForRewrite();
    const { installMethodGuard } = await import("./lib/server/methods");
    installMethodGuard();
  }
}
