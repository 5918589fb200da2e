// Entry point of the haumana-ops binary (bundled to dist/haumana-ops.js).
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
