#!/usr/bin/env node
// Builds the haumana-ops CLI into one file so it starts without a TypeScript
// loader (`haumana-ops` after `npm link`, `node bin/haumana-ops.js`, `npx haumana-ops`).
// Lambda code is not built here: the Pulumi program bundles it at `pulumi up`
// (infra/package.ts).
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
const outfile = path.join(root, "dist/haumana-ops.js");
const result = esbuild.buildSync({
  entryPoints: [path.join(root, "cli/main.ts")],
  outfile,
  write: false,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // The AWS SDK clients and the prompt library stay external and are required
  // lazily by the code that needs them, which keeps `haumana-ops --help` fast.
  external: ["@aws-sdk/*", "@inquirer/*", "esbuild"],
  logLevel: "warning",
});
// Written whole, then renamed: test files that build in parallel never run a half-written CLI.
fs.mkdirSync(path.dirname(outfile), { recursive: true });
const tmp = `${outfile}.${process.pid}.tmp`;
fs.writeFileSync(tmp, result.outputFiles[0].contents);
fs.renameSync(tmp, outfile);
