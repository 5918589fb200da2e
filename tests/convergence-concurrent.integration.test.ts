// Issue 5, convergence under faults with concurrency: the same generated cases as
// tests/convergence.integration.test.ts, plus steps where every device syncs at
// the same moment, so pushes of one user race through the read-plan-commit loop
// (conditional counter and item writes) while faults are injected. The oracle and
// the end-state checks are the same (tests/helpers/convergence.ts).
// CONVERGENCE_CONCURRENT_RUNS overrides the number of cases.
import { defineConvergenceSuite } from "./helpers/convergence";

const RUNS = Number(process.env.CONVERGENCE_CONCURRENT_RUNS ?? 300);
jest.setTimeout(15 * 60 * 1000);

defineConvergenceSuite({
  name: "convergence (concurrent)",
  label: "convc",
  runs: RUNS,
  concurrent: 4,
  title: `${RUNS} generated cases with concurrent syncs converge with nothing acknowledged lost`,
});
