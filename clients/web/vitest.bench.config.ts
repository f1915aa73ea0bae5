import { defineConfig } from "vitest/config";

// `npm run bench`: the crypto benchmark (bench/web_crypto_bench.ts), never part of `npm test`.
export default defineConfig({
  test: {
    include: ["bench/**/*_bench.ts"],
    environment: "node",
    testTimeout: 3_600_000,
    fileParallelism: false,
  },
});
