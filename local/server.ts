// The local API (`npm start`): the same route handlers as the Lambdas, behind an
// HTTP server on 127.0.0.1 that builds API Gateway's proxy event and runs the same
// authorizer on every request, on DynamoDB Local with tables created from the
// definitions infra deploys. Data is kept in .haumana-local/ across restarts.
// Sign-in: `npx haumana-ops dev token --sub <id>` prints a bearer token that only
// this server accepts (its own key and JWKS; production never trusts it).
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CognitoIdentityProviderClient, CreateUserPoolCommand } from "@aws-sdk/client-cognito-identity-provider";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { byRoute, consentStatusRoute, deleteUserRoute, exportRoute } from "../functions/core/account-routes";
import { PayloadTooLargeError } from "../functions/core/errors";
import { ExportLinks, exportFileName, s3ExportLinks } from "../functions/core/export-link";
import { ProxyEvent } from "../functions/core/http";
import { log } from "../functions/core/log";
import { documentClient, piecesRoute, sessionsRoute } from "../functions/core/routes";
import { Store } from "../functions/core/store";
import { createAuthSyncHandler, MAX_AUTH_SYNC_BODY_BYTES } from "../functions/core/users";
import { createAuthorizer, createTokenVerifier, TokenVerifierConfig } from "../functions/core/verify";
import { EXPORT_LINK_SECONDS, exportObjectTagging } from "../lib/exports";
import { MAX_BODY_BYTES, MINIMUM_COMPRESSION_BYTES } from "../lib/limits";
import { matchRoute, Route } from "../lib/routes";
import { resourceNames } from "../lib/names";
import { createTableInput, PIECES_TABLE, SESSIONS_TABLE } from "../lib/tables";
import { stackTags } from "../lib/tags";
import { localJwks, localStateDir, localVerifierConfig } from "./dev-auth";
import { DynamoDBLocal, startDynamoDBLocal } from "./dynamodb-local";
import { motoAvailable, startMoto, MotoServer } from "./moto";

export const LOCAL_NAME_PREFIX = "haumana-local";
const JWKS_PATH = "/.well-known/jwks.json";
/** Where the server serves exports itself when no S3 (moto) runs. */
export const LOCAL_EXPORTS_PATH = "/local-exports/";
/** The bucket exports go to on moto's S3. */
export const LOCAL_EXPORT_BUCKET = `${LOCAL_NAME_PREFIX}-exports`;
/** Stands in for the API's ARN, so the authorizer scopes its policy as in AWS. */
const LOCAL_API_ARN = "arn:aws:execute-api:us-west-2:000000000000:local/prod";

export interface LocalServerOptions {
  port?: number;
  /** Interface to listen on (default 127.0.0.1; HOST=0.0.0.0 lets a phone on the LAN in). */
  host?: string;
  /** Folder for DynamoDB Local's data; null keeps it in memory. Default .haumana-local/dynamodb. */
  dataDir?: string | null;
  /** Use an already running DynamoDB endpoint instead of starting one. */
  dynamoEndpoint?: string;
  /** Physical table names (default haumana-local-pieces / -sessions). */
  tablePrefix?: string;
  /** Cognito for /auth/sync: "auto" starts moto_server when installed. */
  cognito?: "auto" | "off" | { endpoint: string; userPoolId: string };
  /**
   * Trust these keys, issuers and audiences instead of the local dev key (tests
   * point it at their own JWKS server to run the attack matrix, JWKS outages
   * included, through this server). Same verifier code either way.
   */
  verifier?: TokenVerifierConfig;
  /**
   * Where GET /users/{userId}/export puts the document it redirects to. "auto": the
   * S3 of the moto_server started for Cognito (a presigned link, as in AWS), else the
   * server itself; "local": the server itself, at a random link on its own address
   * valid as long as a presigned one.
   */
  exports?: "auto" | "local";
}

export interface LocalServer {
  url: string;
  port: number;
  piecesTable: string;
  sessionsTable: string;
  dynamoEndpoint: string;
  /** Where exports go: moto's S3 (with its endpoint and bucket), or the server itself. */
  exports: { kind: "s3"; endpoint: string; bucket: string } | { kind: "local" };
  /** The Cognito pool /auth/sync writes to and DELETE /users/{userId} deletes from (moto), if any. */
  userPool?: { endpoint: string; userPoolId: string };
  stop(): Promise<void>;
}

/**
 * Whether an API Gateway policy's resources allow `methodArn`. As API Gateway
 * evaluates an authorizer's policy: `*` matches any run of characters (a path
 * parameter written as `*` by the authorizer), `?` any one.
 */
export function policyAllows(resources: string[], methodArn: string): boolean {
  return resources.some((r) => {
    const pattern = r.split("*").map((part) => part.split("?").map((x) => x.replace(/[.+^${}()|[\]\\]/g, "\\$&")).join(".")).join(".*");
    return new RegExp(`^${pattern}$`).test(methodArn);
  });
}

/** Exports kept in memory and served at a random link for EXPORT_LINK_SECONDS (no S3 here). */
function localExportLinks(now: () => number) {
  const kept = new Map<string, { body: Buffer; fileName: string; expiresAt: number }>();
  const sweep = () => {
    for (const [token, e] of kept) if (e.expiresAt <= now()) kept.delete(token);
  };
  return {
    /** `base`: the address the client reached the server at (http://host:port). */
    links: (base: string): ExportLinks => ({
      async publish(doc) {
        sweep();
        const token = randomBytes(24).toString("base64url");
        kept.set(token, { body: Buffer.from(doc.json, "utf8"), fileName: exportFileName(doc.exportedAt), expiresAt: now() + EXPORT_LINK_SECONDS * 1000 });
        return `${base}${LOCAL_EXPORTS_PATH}${token}`;
      },
    }),
    get(token: string) {
      sweep();
      return kept.get(token);
    },
  };
}

/** Creates the tables of the stack with name prefix `prefix` where they do not exist yet. */
export async function ensureTables(client: DynamoDBClient, prefix: string) {
  const names = resourceNames(prefix);
  for (const [schema, name] of [
    [PIECES_TABLE, names.piecesTable],
    [SESSIONS_TABLE, names.sessionsTable],
  ] as const) {
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
    } catch (e: any) {
      if (e.name !== "ResourceNotFoundException") throw e;
      await client.send(new CreateTableCommand(createTableInput(schema, name)));
    }
  }
  return names;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? "too-large" : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * Writes a proxy result, gzip-compressed as API Gateway does it (minimumCompressionSize,
 * infra/api.ts) when the client accepts gzip and the body is large enough.
 */
function send(res: http.ServerResponse, r: APIGatewayProxyResult, acceptEncoding?: string) {
  const headers: Record<string, string> = { ...(r.body ? { "Content-Type": "application/json" } : {}), ...(r.headers as any) };
  const body = Buffer.from(r.body, "utf8");
  if (body.length >= MINIMUM_COMPRESSION_BYTES && /\bgzip\b/i.test(acceptEncoding ?? "")) {
    res.writeHead(r.statusCode, { ...headers, "Content-Encoding": "gzip", Vary: "Accept-Encoding" });
    return res.end(zlib.gzipSync(body));
  }
  res.writeHead(r.statusCode, headers);
  res.end(body);
}

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

export async function startLocalServer(opts: LocalServerOptions = {}): Promise<LocalServer> {
  let ddb: DynamoDBLocal | undefined;
  let moto: MotoServer | undefined;
  const dataDir = opts.dataDir === undefined ? path.join(localStateDir(), "dynamodb") : opts.dataDir;
  const dynamoEndpoint =
    opts.dynamoEndpoint ?? (ddb = await startDynamoDBLocal(dataDir ? { dbPath: dataDir } : {})).endpoint;
  const clientConfig = {
    endpoint: dynamoEndpoint,
    region: "us-west-2",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
  const raw = new DynamoDBClient(clientConfig);
  const names = await ensureTables(raw, opts.tablePrefix ?? LOCAL_NAME_PREFIX);
  raw.destroy();
  const store = new Store({
    doc: documentClient(clientConfig),
    piecesTable: names.piecesTable,
    sessionsTable: names.sessionsTable,
  });
  type Handler = (e: ProxyEvent, base: string) => Promise<APIGatewayProxyResult>;
  const handlers: Partial<Record<Route["fn"], Handler>> = {
    "sync-pieces": piecesRoute(store),
    "sync-sessions": sessionsRoute(store),
  };
  const localExports = localExportLinks(() => Date.now());
  let exportsAt: LocalServer["exports"] = { kind: "local" };
  let userPool: LocalServer["userPool"];
  const jwks = JSON.stringify(await localJwks());

  // The request handler is attached before the server listens: a request that
  // arrives while the rest starts (the verifier needs the port, Cognito may take
  // seconds) waits for it instead of never being answered.
  let ready!: () => void;
  let failed!: (e: unknown) => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  started.catch(() => undefined);
  let authorize!: ReturnType<typeof createAuthorizer>;
  const server = http.createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as any).port as number;
  const url = `http://127.0.0.1:${port}`;
  try {
    // The same verifier code as production, trusting only this server's local key
    // (or, in tests, the keys of the config they pass in).
    const verifier = createTokenVerifier(opts.verifier ?? localVerifierConfig(`${url}${JWKS_PATH}`));
    authorize = createAuthorizer(verifier);
    // /auth/sync answers every valid token with 200 whether or not a user registry
    // runs; with moto installed the users land in a local Cognito user pool.
    let registry: { cognito: CognitoIdentityProviderClient; userPoolId: string } | undefined;
    const cognitoOpt = opts.cognito ?? "auto";
    if (cognitoOpt !== "off" && (typeof cognitoOpt === "object" || motoAvailable())) {
      let endpoint: string;
      let userPoolId: string;
      const creds = { accessKeyId: "local", secretAccessKey: "local" };
      if (typeof cognitoOpt === "object") {
        ({ endpoint, userPoolId } = cognitoOpt);
      } else {
        moto = await startMoto();
        endpoint = moto.endpoint;
        const c = new CognitoIdentityProviderClient({ endpoint, region: "us-west-2", credentials: creds });
        const pool = await c.send(new CreateUserPoolCommand({ PoolName: resourceNames(LOCAL_NAME_PREFIX).userPool }));
        c.destroy();
        userPoolId = pool.UserPool!.Id!;
      }
      registry = { cognito: new CognitoIdentityProviderClient({ endpoint, region: "us-west-2", credentials: creds }), userPoolId };
      userPool = { endpoint, userPoolId };
    }
    const authSync = createAuthSyncHandler({ verifier, registry });
    // auth-sync reads the body only, of API Gateway's full proxy event.
    handlers["auth-sync"] = (event) => authSync(event as APIGatewayProxyEvent);
    handlers["user-delete"] = deleteUserRoute(store, registry);
    // Exports: moto's S3 when moto runs (a presigned link, as in AWS), else this server.
    let s3Links: ExportLinks | undefined;
    if ((opts.exports ?? "auto") === "auto" && moto) {
      const s3 = new S3Client({ endpoint: moto.endpoint, region: "us-west-2", credentials: { accessKeyId: "local", secretAccessKey: "local" }, forcePathStyle: true });
      await s3.send(new CreateBucketCommand({ Bucket: LOCAL_EXPORT_BUCKET, CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
      const tagging = exportObjectTagging(stackTags({ environment: "Local", costCenter: "Haumana" }));
      s3Links = s3ExportLinks({ s3, bucket: LOCAL_EXPORT_BUCKET, tagging });
      exportsAt = { kind: "s3", endpoint: moto.endpoint, bucket: LOCAL_EXPORT_BUCKET };
    }
    handlers["user-export"] = (event, base) =>
      byRoute({
        "GET /users/{userId}/export": exportRoute(store, s3Links ?? localExports.links(base)),
        "GET /users/{userId}/consent-status": consentStatusRoute(),
      })(event);
    ready();
  } catch (e) {
    failed(e);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await moto?.stop();
    await ddb?.stop();
    throw e;
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const route = (req.url ?? "/").split("?")[0];
    try {
      if (req.method === "GET" && route === JWKS_PATH) {
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(jwks);
      }
      await started;
      if (req.method === "GET" && route === "/health") return send(res, json(200, { ok: true }));
      if (req.method === "GET" && route.startsWith(LOCAL_EXPORTS_PATH)) {
        const e = localExports.get(route.slice(LOCAL_EXPORTS_PATH.length));
        if (!e) return send(res, json(404, { error: { code: "not_found", message: "This export link is unknown or has expired." } }));
        const headers = { "Content-Disposition": `attachment; filename="${e.fileName}"`, "Cache-Control": "private, no-store" };
        return send(res, { statusCode: 200, headers, body: e.body.toString("utf8") }, String(req.headers["accept-encoding"] ?? ""));
      }
      const matched = matchRoute(req.method ?? "", route);
      if (!matched) {
        return send(res, json(404, { error: { code: "not_found", message: `No route ${req.method} ${route}` } }));
      }
      const r = matched.route;
      const limit = r.fn === "auth-sync" ? MAX_AUTH_SYNC_BODY_BYTES : MAX_BODY_BYTES;
      const body = await readBody(req, limit);
      if (body === "too-large") {
        const e = new PayloadTooLargeError(`The request body is larger than ${Math.floor(limit / 1024)} KB.`);
        return send(res, json(413, e.toJSON()));
      }
      const requestId = Math.random().toString(36).slice(2);
      const handler = handlers[r.fn]!;
      let authorizer: Record<string, unknown> | undefined;
      if (r.authorized) {
        // The ARN of the request as API Gateway builds it: the path as called, parameters filled in.
        const methodArn = `${LOCAL_API_ARN}/${r.method}/${route.replace(/^\//, "")}`;
        let policy: any;
        try {
          policy = await authorize({ type: "TOKEN", authorizationToken: String(req.headers.authorization ?? ""), methodArn });
        } catch {
          // What API Gateway answers when a TOKEN authorizer denies.
          return send(res, json(401, { message: "Unauthorized" }));
        }
        const allowed: string[] = policy.policyDocument.Statement.flatMap((st: any) => st.Resource);
        // What API Gateway answers when the policy does not cover the request.
        if (!policyAllows(allowed, methodArn)) return send(res, json(403, { message: "User is not authorized to access this resource" }));
        authorizer = policy.context;
      }
      const base = `http://${req.headers.host ?? `127.0.0.1:${port}`}`;
      const event: ProxyEvent = {
        body,
        isBase64Encoded: false,
        headers: {},
        httpMethod: r.method,
        resource: `/${r.path}`,
        pathParameters: Object.keys(matched.pathParameters).length ? matched.pathParameters : null,
        requestContext: { authorizer, requestId },
      };
      const result = await handler(event, base);
      send(res, result, String(req.headers["accept-encoding"] ?? ""));
    } catch {
      log.error("local-server", { route, outcome: "error" });
      if (!res.headersSent) send(res, json(500, { error: { code: "internal", message: "Internal error" } }));
    }
  }

  return {
    url,
    port,
    piecesTable: names.piecesTable,
    sessionsTable: names.sessionsTable,
    dynamoEndpoint,
    exports: exportsAt,
    ...(userPool ? { userPool } : {}),
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await moto?.stop();
      await ddb?.stop();
    },
  };
}

async function main() {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, got "${process.env.PORT}"`);
    process.exit(2);
  }
  const s = await startLocalServer({ port, host: process.env.HOST || undefined });
  const out = process.stdout;
  out.write(`Haumana API running at ${s.url}\n`);
  out.write(`DynamoDB Local at ${s.dynamoEndpoint} (data in ${path.join(localStateDir(), "dynamodb")})\n\n`);
  out.write(`Try it:\n`);
  out.write(`  TOKEN=$(npx haumana-ops dev token --sub 109876543210987654321 --email you@example.com)\n`);
  out.write(
    `  curl -s -X POST ${s.url}/pieces -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"operation":"sync","pieces":[]}'\n`,
  );
  out.write(`  curl -sL ${s.url}/users/109876543210987654321/export -H "Authorization: Bearer $TOKEN" -o export.json\n`);
  out.write(`Exports are served ${s.exports.kind === "s3" ? `from moto's S3 (bucket ${s.exports.bucket})` : "by this server (no moto_server: links live 5 minutes)"}.\n\n`);
  out.write(`Point the app (or curl) at ${s.url} as the stage URL. Ctrl-C stops.\n`);
  const stop = async () => {
    await s.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(`Could not start the local API: ${e?.message ?? e}`);
    process.exit(1);
  });
}
