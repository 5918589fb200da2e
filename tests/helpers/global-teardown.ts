export default async function globalTeardown() {
  const ddb = (globalThis as any).__HAUMANA_DDB__;
  if (ddb) await ddb.stop();
}
