// `haumana-ops dev token`: declarations only; the work is in cli/actions/dev.ts.
import { Command } from "commander";
import { Context } from "../context";
import { withExamples } from "./help";
import { emit } from "./output";

export function registerDev(program: Command, ctx: Context) {
  const dev = withExamples(program.command("dev").description("Helpers for the local server (never for production)"), ["dev token --sub alice"]);

  withExamples(
    dev
      .command("token")
      .description("Print a bearer token that only the local server accepts (its own issuer, audience and key)")
      .requiredOption("--sub <id>", "the user id (token subject)")
      .option("--email <address>", "the email claim (default: <sub>@haumana.local)"),
    [
      "dev token --sub alice",
      "dev token --sub alice --email alice@example.com --json",
      (cli) =>
        `curl -s -X POST http://127.0.0.1:3000/pieces -H "Authorization: Bearer $(${cli} dev token --sub alice)" ` +
        `-H 'Content-Type: application/json' -d '{"operation":"sync","pieces":[]}'`,
    ],
  ).action(async (opts: { sub: string; email?: string }) => {
    const { devTokenResult, renderDevToken } = await import("../actions/dev");
    emit(ctx, undefined, await devTokenResult(opts), renderDevToken);
  });
}
