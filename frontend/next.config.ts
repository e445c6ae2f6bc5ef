import type { NextConfig } from "next";
import { SECURITY_HEADERS } from "./lib/securityHeaders";

const nextConfig: NextConfig = {
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
  // On every response; middleware.ts replaces the CSP on pages with its nonce policy.
  async headers() {
    return [{ source: "/:path*", headers: [...SECURITY_HEADERS] }];
  },
  // Next copies a request body for the middleware, up to this much each (10 MB by default). The
  // middleware runs on pages only, which take no body, so a big POST to a page must not fill memory.
  experimental: { middlewareClientMaxBodySize: "1kb" },
  // Lint runs as its own step (npm run lint); the build only type-checks.
  eslint: { ignoreDuringBuilds: true },
  // No next/image in this app: keeping the optimizer off keeps sharp and libvips out of the image.
  images: { unoptimized: true },
  // The server embeds the compiled config, so neither sharp nor the TypeScript compiler
  // (traced because the config is .ts) is needed at run time.
  outputFileTracingExcludes: {
    "*": ["node_modules/sharp/**", "node_modules/@img/**", "node_modules/typescript/**"],
  },
};

export default nextConfig;
