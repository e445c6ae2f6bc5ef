import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
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
