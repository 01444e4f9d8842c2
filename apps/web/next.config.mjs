import { fileURLToPath } from 'node:url';

/** @type {import('next').NextConfig} */
const config = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The monorepo root: one lockfile, hoisted node_modules.
  outputFileTracingRoot: fileURLToPath(new URL('../..', import.meta.url)),
  // `npm run lint` lints; the build only compiles and type-checks.
  eslint: { ignoreDuringBuilds: true },
};

export default config;
