// The terminal helpers and the AWS error mapping of haumana-ops.
import { fromAwsError, CredentialsError, PreconditionError, AwsRequestError, IAM_ACTIONS } from "../cli/errors";
import { bar, colourAllowed, IO, Ui } from "../cli/ui";

function memoryIO(opts: { stdoutTTY?: boolean; stderrTTY?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: IO = {
    stdout: { write: (s: string) => out.push(s), isTTY: opts.stdoutTTY },
    stderr: { write: (s: string) => err.push(s), isTTY: opts.stderrTTY },
    env: opts.env ?? {},
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
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
