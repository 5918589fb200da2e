// Prints an action's result: pure JSON on stdout under --json (global), else the
// text rendering; then sets the exit code the result carries.
import type { Context } from "../context";
import type { ExitCode } from "../exit-codes";
import type { Colours } from "../ui";

/** `json`: kept for callers that pass their own flag; the global --json (ctx.globals.json) counts either way. */
export function emit<R extends { exitCode: ExitCode }>(ctx: Context, json: boolean | undefined, result: R, render: (r: R, c: Colours) => string) {
  if (json || ctx.globals.json) {
    const { exitCode: _omit, ...data } = result;
    ctx.ui.json(data);
  } else {
    ctx.ui.print(render(result, ctx.ui.out));
  }
  ctx.setExitCode(result.exitCode);
}

/** Says where requests go when AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>) points the SDK elsewhere (an emulator). */
export function noteEndpoint(ctx: Context) {
  const env = ctx.ui.io.env;
  const url = env.AWS_ENDPOINT_URL;
  if (url) ctx.ui.info(ctx.ui.err.dim(`AWS_ENDPOINT_URL is set: sending AWS requests to ${url}`));
  for (const [key, value] of Object.entries(env).sort()) {
    const service = /^AWS_ENDPOINT_URL_([A-Z0-9_]+)$/.exec(key)?.[1];
    if (service && value) ctx.ui.info(ctx.ui.err.dim(`${key} is set: sending ${service.replace(/_/g, " ")} requests to ${value}`));
  }
}
