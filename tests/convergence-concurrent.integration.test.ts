// Issue 5, convergence under faults with concurrency: the same generated cases as
// tests/convergence.integration.test.ts, plus steps where every device syncs at
// the same moment, so pushes of one user race through the read-plan-commit loop
// (conditional counter and item writes) while faults are injected. The oracle and
// the end-state checks are the same (tests/helpers/convergence.ts).
// CONVERGENCE_CONCURRENT_RUNS overrides the number of cases.
import fc from "fast-check";
import { caseArb, Env, figuresLine, newFigures, runCase, STORE_MAX_ATTEMPTS } from "./helpers/convergence";
import { FaultyClient, withFaults } from "./helpers/faults";
import { createHarness, Harness } from "./helpers/sync-harness";

const RUNS = Number(process.env.CONVERGENCE_CONCURRENT_RUNS ?? 800);
jest.setTimeout(15 * 60 * 1000);

let h: Harness;
let faults: FaultyClient;
const figures = newFigures();
let ms: number | undefined;
beforeAll(async () => {
  h = await createHarness("convc", {
    doc: (doc) => (faults = withFaults(doc)).doc,
    store: { sleep: async () => undefined, maxAttempts: STORE_MAX_ATTEMPTS },
  });
});
afterAll(async () => {
  console.log(figuresLine("convergence (concurrent)", figures, ms));
  await h.done();
});

test(`${RUNS} generated cases with concurrent syncs converge with nothing acknowledged lost`, async () => {
  const env: Env = { h, faults, figures, label: "conc" };
  const t0 = Date.now();
  await fc.assert(
    fc.asyncProperty(caseArb({ minSteps: 5, maxSteps: 25, concurrent: 4 }), async (c) => {
      h.logs.length = 0;
      await runCase(env, c);
    }),
    { numRuns: RUNS },
  );
  ms = Date.now() - t0;
});
