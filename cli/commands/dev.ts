// `haumana-ops dev token`: declarations only; the work is in cli/actions/dev.ts.
import { Command } from "commander";
import { Context } from "../context";
import { withExamples } from "./help";

export function registerDev(program: Command, ctx: Context) {
  const dev = withExamples(program.command("dev").description("Helpers for the local server (never for production)"), [
    "haumana-ops dev token --sub alice",
  ]);

  withExamples(
    dev
      .command("token")
      .description("Print a bearer token that only the local server accepts (its own issuer, audience and key)")
      .requiredOption("--sub <id>", "the user id (token subject)")
      .option("--email <address>", "the email claim (default: <sub>@haumana.local)"),
    [
      "haumana-ops dev token --sub alice",
      "haumana-ops dev token --sub alice --email alice@example.com",
      'curl -H "Authorization: Bearer $(haumana-ops dev token --sub alice)" http://127.0.0.1:3000/...',
    ],
  ).action(async (opts: { sub: string; email?: string }) => {
    const { devToken } = await import("../actions/dev");
    ctx.ui.print(await devToken(opts));
  });
}
