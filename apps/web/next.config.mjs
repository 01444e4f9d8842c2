import { fileURLToPath } from 'node:url';

/** A separate API for `next dev` (see src/lib/endpoints.ts); unset when `npm start` serves both. */
const api = process.env.NEXT_PUBLIC_API_URL?.replace(/\/+$/, '');

/** @type {import('next').NextConfig} */
const config = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The monorepo root: one lockfile, hoisted node_modules.
  outputFileTracingRoot: fileURLToPath(new URL('../..', import.meta.url)),
  // `npm run lint` lints; the build only compiles and type-checks.
  eslint: { ignoreDuringBuilds: true },
  async rewrites() {
    if (!api) return [];
    return ['/graphql', '/frames/:path*', '/masks/:path*', '/presets/:path*'].map((source) => ({
      source,
      destination: `${api}${source}`,
    }));
  },
};

export default config;
