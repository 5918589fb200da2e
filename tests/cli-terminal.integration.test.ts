// haumana-ops in a terminal: the built binary in a pseudo-terminal (util-linux
// `script`), against moto_server, with its output played into a headless xterm so
// the assertions are about the screen a person is left with. The spinner leaves no
// frame behind (also in a narrow terminal, on an error and on Ctrl-C), budget
// create asks before writing and shows where it writes, and colour follows TERM.
import { EXIT } from "../cli/exit-codes";
import { MOTO_ACCOUNT, runInTerminal, SPINNER_FRAMES, useMotoCli } from "./helpers/cli";

const cli = useMotoCli();
const inTerminal = (args: string[], opts: Parameters<typeof runInTerminal>[1] extends infer O ? Partial<O> : never = {}) =>
  runInTerminal(args, { cwd: cli.tmp, env: cli.env({ aws: true }), ...opts });
const writes = () => cli.proxy.requests.map((q) => q.operation).filter((op) => !/^(Describe|GetCallerIdentity|ListCostAllocationTags)/.test(op));
const COLOUR = /\x1b\[(3\d|1|2)m/;

describe("the spinner never leaves a frame on the screen", () => {
  test.each([
    ["budget show", ["budget", "show"], 100],
    ["budget create --dry-run", ["budget", "create", "--skip-tag-check", "--dry-run"], 100],
    ["tags check, ending in an error", ["tags", "check"], 100],
    ["budget show in a 30-column terminal (labels wider than the screen)", ["budget", "show"], 30],
    ["cost report", ["cost", "report", "--month", "2026-10"], 100],
  ])("%s", async (_name, args, cols) => {
    const r = await inTerminal(args as string[], { cols });
    expect(r.raw).toMatch(SPINNER_FRAMES); // it did spin...
    expect(r.screen.join("\n")).not.toMatch(SPINNER_FRAMES); // ...and left nothing behind
    expect(r.screen.join("\n")).not.toMatch(/NodeVersionSupportWarning|\(node:\d+\)/);
  });
});

test("Ctrl-C while it spins: the line is cleared, the process ends as interrupted", async () => {
  cli.proxy.gate(["GetCallerIdentity"], 2, 20000); // holds the one request: the spinner keeps spinning
  const r = await inTerminal(["budget", "show"], { steps: [{ when: /Reading the account id…/, send: "\x03" }] });
  expect(r.code).toBe(EXIT.INTERRUPTED);
  expect(r.screen.join("\n")).not.toMatch(SPINNER_FRAMES);
  expect(r.screen.join("\n")).not.toContain("Reading the account id");
});

describe("budget create asks before writing", () => {
  test("answering no: the plan and the account were on screen, nothing was written, exit 1", async () => {
    const r = await inTerminal(["budget", "create", "--skip-tag-check"], { steps: [{ when: /\(y\/N\)/, send: "n\r" }] });
    expect(r.code).toBe(EXIT.FAILURE);
    const screen = r.screen.join("\n");
    expect(screen).toContain(`Haumana-Monthly-Budget in account ${MOTO_ACCOUNT} (arn:aws:sts::${MOTO_ACCOUNT}:user/moto), AWS Budgets (us-east-1):`);
    expect(screen).toMatch(/\+ create budget Haumana-Monthly-Budget: \$10\.00 a month/);
    expect(screen).toContain(`Make this change in account ${MOTO_ACCOUNT}? No`);
    expect(screen).toContain("Cancelled: nothing was changed.");
    expect(writes()).toEqual([]);
  });

  test("answering yes: it writes, says so, exit 0", async () => {
    const r = await inTerminal(["budget", "create", "--skip-tag-check"], { steps: [{ when: /\(y\/N\)/, send: "y\r" }] });
    expect(r.code).toBe(EXIT.OK);
    const screen = r.screen.join("\n");
    expect(screen).toContain(`Make this change in account ${MOTO_ACCOUNT}? Yes`);
    expect(screen).toContain("✓ CreateBudget: create budget Haumana-Monthly-Budget");
    expect(screen).not.toMatch(SPINNER_FRAMES);
    expect(writes()).toEqual(["CreateBudget"]);
  });

  test("Ctrl-C at the question: nothing written, exit 130", async () => {
    const r = await inTerminal(["budget", "create", "--skip-tag-check"], { steps: [{ when: /\(y\/N\)/, send: "\x03" }] });
    expect(r.code).toBe(EXIT.INTERRUPTED);
    expect(r.screen.join("\n")).toContain("Interrupted: nothing was changed.");
    expect(writes()).toEqual([]);
  });

  test("--yes does not ask; up to date does not ask either", async () => {
    const yes = await inTerminal(["budget", "create", "--skip-tag-check", "--yes"]);
    expect(yes.code).toBe(EXIT.OK);
    expect(yes.raw).not.toContain("(y/N)");
    const again = await inTerminal(["budget", "create", "--skip-tag-check"]);
    expect(again.code).toBe(EXIT.OK);
    expect(again.raw).not.toContain("(y/N)");
    expect(again.screen.join("\n")).toContain("is up to date: nothing to change.");
  });
});

describe("colour in a terminal", () => {
  test("on by default, off with TERM=dumb and with NO_COLOR", async () => {
    expect((await inTerminal(["budget", "show"])).raw).toMatch(COLOUR);
    const dumb = await inTerminal(["budget", "show"], { env: { ...cli.env({ aws: true }), TERM: "dumb" } });
    expect(dumb.raw).not.toMatch(COLOUR);
    expect(dumb.screen.join("\n")).toContain("No budget yet. Create it: haumana-ops budget create");
    const noColour = await inTerminal(["budget", "show"], { env: { ...cli.env({ aws: true }), NO_COLOR: "1" } });
    expect(noColour.raw).not.toMatch(COLOUR);
  });
});
