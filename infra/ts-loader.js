// Loaded by Pulumi before the program (Pulumi.yaml: `nodeargs: --require
// ./infra/ts-loader.js`, with `typescript: false`). It compiles the program's
// TypeScript files with esbuild, a production dependency, as Node requires them,
// so `pulumi up` needs only production dependencies: no TypeScript compiler and no
// ts-node (Pulumi's own fallback, a vendored TypeScript 3.8, cannot compile this
// code). Each file is compiled alone, which tsconfig.json's isolatedModules
// guarantees is safe; type checking is `npm test`'s job (tsc --noEmit).
"use strict";
const fs = require("node:fs");
const esbuild = require("esbuild");

process.setSourceMapsEnabled(true);

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  const { code } = esbuild.transformSync(fs.readFileSync(filename, "utf8"), {
    loader: "ts",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    sourcefile: filename,
    sourcemap: "inline",
  });
  module._compile(code, filename);
};
