/// <reference types="vitest/config" />
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The server serves dist/ at `/`: index.html uncached, dist/assets/* (content-hashed names)
// cached for a year. No inline scripts, so the server's CSP can forbid them.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0, // no data: URLs, so the CSP keeps img-src to this origin
  },
  server: { host: "127.0.0.1" },
  test: {
    include: ["tests/unit/**/*.test.ts"],
    environment: "node",
    // scrypt keystores and Python subprocesses take seconds on a loaded 2-core machine
    testTimeout: 60_000,
  },
});
