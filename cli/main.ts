// Entry point of the haumana-ops binary (bundled to dist/haumana-ops.js).
//
// Node policy: haumana-ops runs on Node 20 and 22+. The AWS SDK packages are pinned
// (package.json, package-lock.json) to releases that support Node 20, so the SDK's
// NodeVersionSupportWarning (about releases after January 2027 needing Node 22) does
// not apply to this install and is turned off with the SDK's own switch, before any
// client exists. tests/node-support.unit.test.ts keeps the pins honest.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

import { run } from "./program";

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`haumana-ops: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
