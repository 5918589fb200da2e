#!/usr/bin/env node
// The CLI is bundled to dist/ by `npm run build` (run on install by `prepare`).
require("../dist/haumana-ops.js");
