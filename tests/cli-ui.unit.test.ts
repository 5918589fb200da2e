// The terminal helpers and the AWS error mapping of haumana-ops.
import { fromAwsError, CredentialsError, PreconditionError, AwsRequestError, IAM_ACTIONS } from "../cli/errors";
import { bar, colourAllowed, IO, limitBar, money, Ui } from "../cli/ui";
import { detectPrefix, shellQuote } from "../cli/invocation";
import { render, SPINNER_FRAMES } from "./helpers/cli";

function memoryIO(opts: { stdoutTTY?: boolean; stderrTTY?: boolean; env?: NodeJS.ProcessEnv; columns?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const both: string[] = [];
  const io: IO = {
    stdout: { write: (s: string) => (out.push(s), both.push(s)), isTTY: opts.stdoutTTY, columns: opts.columns },
    stderr: { write: (s: string) => (err.push(s), both.push(s)), isTTY: opts.stderrTTY, columns: opts.columns },
    env: opts.env ?? {},
  };
  return { io, out: () => out.join(""), err: () => err.join(""), terminal: () => both.join("").replace(/\n/g, "\r\n") };
}

describe("colour", () => {
  const tty = { write() {}, isTTY: true };
  const pipe = { write() {}, isTTY: false };
  test.each([
    ["a terminal", tty, { TERM: "xterm-256color" }, true],
    ["a pipe", pipe, { TERM: "xterm-256color" }, false],
    ["a stream that does not say", { write() {} }, { TERM: "xterm-256color" }, false],
    ["NO_COLOR", tty, { TERM: "xterm-256color", NO_COLOR: "1" }, false],
    ["NODE_DISABLE_COLORS", tty, { TERM: "xterm-256color", NODE_DISABLE_COLORS: "1" }, false],
    ["TERM=dumb", tty, { TERM: "dumb" }, false],
    ["FORCE_COLOR=1 into a pipe", pipe, { FORCE_COLOR: "1" }, true],
    ["FORCE_COLOR=1 with TERM=dumb", tty, { TERM: "dumb", FORCE_COLOR: "1" }, true],
    ["FORCE_COLOR=1 over NO_COLOR", pipe, { FORCE_COLOR: "1", NO_COLOR: "1" }, true],
    ["FORCE_COLOR=0 on a terminal", tty, { TERM: "xterm-256color", FORCE_COLOR: "0" }, false],
    ["FORCE_COLOR=false on a terminal", tty, { TERM: "xterm-256color", FORCE_COLOR: "false" }, false],
  ])("%s", (_name, stream, env, expected) => {
    expect(colourAllowed(stream, env as NodeJS.ProcessEnv)).toBe(expected);
  });

  test("stdout and stderr decide separately", () => {
    const m = memoryIO({ stdoutTTY: false, stderrTTY: true, env: { TERM: "xterm-256color" } });
    const ui = new Ui(m.io);
    ui.print(ui.out.green("ok"));
    ui.warn("careful");
    expect(m.out()).toBe("ok\n");
    expect(m.err()).toBe("\x1b[33mwarning:\x1b[39m careful\n");
  });
});

describe("spinner", () => {
  test("writes nothing when stderr is not a TTY", async () => {
    const m = memoryIO({ stderrTTY: false });
    expect(await new Ui(m.io).spin("waiting", async () => 42)).toBe(42);
    expect(m.err()).toBe("");
  });

  test("lines written while it spins land on clean lines, and no frame is left (one terminal for stdout and stderr)", async () => {
    const m = memoryIO({ stdoutTTY: true, stderrTTY: true, env: { NO_COLOR: "1" }, columns: 40 });
    const ui = new Ui(m.io);
    await ui.spin("outer work", async () => {
      ui.info("a message on stderr");
      await ui.spin("inner work with a label far wider than this forty-column terminal", async () => {
        ui.print("a result on stdout");
        ui.warn("a warning");
      });
      ui.info("after the inner one");
    });
    const screen = await render(m.terminal(), 40, 10);
    expect(screen).toEqual(["a message on stderr", "a result on stdout", "warning: a warning", "after the inner one"]);
    expect(m.err()).toContain("⠋ inner work with a label far wider th…");
    expect(screen.join("\n")).not.toMatch(SPINNER_FRAMES);
  });

  test("draws on stderr on a TTY and clears its line, also on failure", async () => {
    const m = memoryIO({ stderrTTY: true, env: { NO_COLOR: "1" } });
    const ui = new Ui(m.io);
    await expect(ui.spin("waiting on AWS", () => new Promise((_, rej) => setTimeout(() => rej(new Error("x")), 200)))).rejects.toThrow("x");
    expect(m.err()).toContain("⠋ waiting on AWS");
    expect(m.err().endsWith("\r\x1b[K")).toBe(true);
    expect(m.out()).toBe("");
  });
});

test("bar: proportional, in eighths, never longer than its width", () => {
  expect(bar(10, 10, 30)).toBe("█".repeat(30));
  expect(bar(5, 10, 30)).toBe("█".repeat(15));
  expect(bar(1, 16, 2)).toBe("▏");
  expect(bar(20, 10, 30)).toBe("█".repeat(30));
  expect(bar(0, 10)).toBe("");
});

test("money: one way everywhere", () => {
  expect(money(10)).toBe("$10.00");
  expect(money(0.004)).toBe("$0.00");
  expect(money(1234.5)).toBe("$1234.50");
  expect(money(-2)).toBe("-$2.00");
  expect(money(3, "EUR")).toBe("3.00 EUR");
});

describe("limitBar: the limit's column, whatever the value", () => {
  test.each([
    // value, limit → marker column of 40, full cells
    [5, 10, 40, 20],
    [10, 10, 40, 40],
    [25.4, 10, 16, 40],
    [20, 10, 20, 40],
    [0, 10, 40, 0],
  ])("%s of %s: marker at %s, %s full cells", (value, limit, column, full) => {
    const { line, markerColumn } = limitBar(value, limit, 40);
    expect(markerColumn).toBe(column);
    expect([...line].indexOf("│")).toBe(column);
    expect((line.match(/█/g) ?? []).length).toBe(full);
  });

  test("the part over the limit takes the `over` colour", () => {
    expect(limitBar(20, 10, 4, (s) => `<${s}>`).line).toBe("██│<██>");
  });
});

describe("invocation: hints written the way the CLI was started", () => {
  const env = { PATH: "/usr/local/bin:/opt/linked" };
  test.each([
    ["on PATH (npm link)", "/opt/linked/haumana-ops", env, "/home/me", "haumana-ops"],
    ["npx", "/root/.npm/_npx/x/node_modules/.bin/haumana-ops", { ...env, npm_lifecycle_event: "npx" }, "/home/me", "npx haumana-ops"],
    ["node with a path under the working directory", "/work/repo/bin/haumana-ops.js", env, "/work/repo", "node bin/haumana-ops.js"],
    ["node with a path elsewhere", "/work/repo/bin/haumana-ops.js", env, "/tmp", "node /work/repo/bin/haumana-ops.js"],
    ["a symlink named haumana-ops that is not on PATH", "/tmp/x/haumana-ops", env, "/tmp", "node x/haumana-ops"],
    ["a path with a space", "/work/my repo/bin/haumana-ops.js", env, "/tmp", "node '/work/my repo/bin/haumana-ops.js'"],
  ])("%s", (_name, argv1, e, cwd, expected) => {
    expect(detectPrefix(argv1, e, cwd)).toBe(expected);
  });

  test("shellQuote leaves plain words alone and quotes the rest", () => {
    expect(shellQuote("--stack")).toBe("--stack");
    expect(shellQuote("ops@example.com")).toBe("ops@example.com");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("a b")).toBe("'a b'");
  });
});

describe("fromAwsError", () => {
  test("missing credentials: what to do, exit 3", () => {
    const e = Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
    const m = fromAwsError(e, "GetCallerIdentity");
    expect(m).toBeInstanceOf(CredentialsError);
    expect(m).toMatchObject({ code: "no_credentials", exitCode: 3 });
    expect(m.message).toContain("sts:GetCallerIdentity");
    expect(m.hint).toContain("aws sso login --profile NAME");
    expect(m.hint).toContain("--profile NAME");
  });

  test("expired credentials: exit 3", () => {
    const m = fromAwsError(Object.assign(new Error("The security token included in the request is expired"), { name: "ExpiredTokenException" }), "DescribeBudget");
    expect(m).toMatchObject({ code: "expired_credentials", exitCode: 3 });
  });

  test.each(Object.entries(IAM_ACTIONS))("AccessDenied on %s names %s", (operation, action) => {
    const m = fromAwsError(Object.assign(new Error("not authorized"), { name: operation === "GetCallerIdentity" ? "AccessDenied" : "AccessDeniedException" }), operation);
    expect(m).toMatchObject({ code: "access_denied", exitCode: 3 });
    expect(m.message).toBe(`Access denied: ${operation} needs the IAM permission ${action}.`);
    expect(m.hint).toContain(`Grant ${action}`);
  });

  test("Cost Explorer not enabled is a precondition (exit 4)", () => {
    const m = fromAwsError(Object.assign(new Error("User not enabled for cost explorer access"), { name: "AccessDeniedException" }), "GetCostAndUsage");
    expect(m).toBeInstanceOf(PreconditionError);
    expect(m.exitCode).toBe(4);
  });

  test("anything else is a failure naming the operation (exit 1)", () => {
    const m = fromAwsError(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $fault: "client", $metadata: { httpStatusCode: 400 } }), "DescribeBudget");
    expect(m).toBeInstanceOf(AwsRequestError);
    expect(m).toMatchObject({ exitCode: 1, message: "DescribeBudget failed: ThrottlingException: Rate exceeded" });
    expect(m.toJSON()).toEqual({ error: { code: "aws_error", message: "DescribeBudget failed: ThrottlingException: Rate exceeded" } });
  });
});
