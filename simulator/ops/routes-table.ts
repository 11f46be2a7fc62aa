import { buildSimulator } from "../app.ts";

// Prints the README's route table from the live OpenAPI document (`npx tsx simulator/ops/routes-table.ts`),
// so the README lists exactly what the simulator serves; test/readme.test.ts fails when they drift.
export async function routesTable(): Promise<string> {
  const { app } = await buildSimulator({ catalogSize: 100, dataDir: ":memory:", logLevel: "silent" });
  try {
    const doc = app.swagger() as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    const rows = ["| method | path | what |", "|---|---|---|"];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        rows.push(`| ${method.toUpperCase()} | \`${path}\` | ${(op.summary ?? "").replaceAll("|", "\\|")} |`);
      }
    }
    return rows.join("\n");
  } finally {
    await app.close();
  }
}

if (process.argv[1]?.endsWith("routes-table.ts")) {
  process.stdout.write(`${await routesTable()}\n`);
}
