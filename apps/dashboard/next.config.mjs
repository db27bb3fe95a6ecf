/* global process */
/**
 * The dashboard imports the workspace libs as TypeScript source (no build step), so Next
 * transpiles them; the database drivers stay plain Node modules on the server.
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  // Where the build goes (default .next): the launcher and tests may build into a separate folder.
  distDir: process.env.CHORUS_DASHBOARD_DIST_DIR || '.next',
  transpilePackages: ['@chorus/db', '@chorus/protocol', '@chorus/ensemble'],
  serverExternalPackages: ['@prisma/client', '@prisma/adapter-pg', 'pg', '@electric-sql/pglite'],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
