#!/usr/bin/env node
// Builds the haumana-ops CLI into one file so `npx haumana-ops` starts without a
// TypeScript loader. Lambda code is not built here: the Pulumi program bundles it
// at `pulumi up` (infra/package.ts).
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
esbuild.buildSync({
  entryPoints: [path.join(root, "cli/main.ts")],
  outfile: path.join(root, "dist/haumana-ops.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // AWS SDK clients stay external and are required lazily by the command that
  // needs them, which keeps `haumana-ops --help` fast.
  external: ["@aws-sdk/*", "esbuild"],
  logLevel: "warning",
});
