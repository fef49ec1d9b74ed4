// The JavaScript client against a live `tidal serve` (run by ctest:
// clients.js). TIDAL_BIN names the tidal binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, TidalError } from "../index.js";

const ADMIN = "admin-key-for-js-tests-0123456";
const WRITE = "write-key-for-js-tests-0123456";
const SEARCH = "search-key-for-js-tests-012345";
let server, dir, url, admin, writer, reader;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tidal-js-"));
  server = spawn(process.env.TIDAL_BIN ?? "tidal", ["serve", "--data", join(dir, "db"), "--port", "0"], {
    env: { ...process.env, TIDAL_API_KEYS: `admin:${ADMIN},write:${WRITE},search:${SEARCH}` },
  });
  url = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`tidal serve did not start: ${seen}`)), 30000);
    server.stdout.on("data", (d) => {
      seen += d;
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(seen);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  admin = new Client(url, { key: ADMIN });
  writer = new Client(url, { key: WRITE });
  reader = new Client(url, { key: SEARCH });
});

after(async () => {
  server.kill("SIGTERM");
  await new Promise((r) => server.on("exit", r));
  rmSync(dir, { recursive: true, force: true });
});

test("entities, events and queries", async () => {
  await writer.upsert("items", "v1", { title: "Cats on a piano", category: "pets", duration: 95, creator: "studio_9" });
  const batch = await writer.upsertBatch("items", [
    ...Array.from({ length: 10 }, (_, i) => ({ key: `v${i + 2}`, attributes: { category: "music", duration: i + 2 } })),
    { key: "bad", attributes: { duration: "x" } },
  ]);
  assert.equal(batch.accepted, 10);
  assert.equal(batch.errors[0].index, 10);
  assert.equal((await reader.get("item", "v1")).attributes.category, "pets");
  await writer.patch("items", "v2", { category: "pets" });
  assert.equal(await reader.count("items", "category = 'pets'"), 2);
  const listed = [];
  for await (const e of reader.list("items", "category = 'music'", { pageSize: 3 })) listed.push(e.key);
  assert.deepEqual(listed, Array.from({ length: 9 }, (_, i) => `v${i + 3}`));

  const once = await writer.ingest({ item: "v3", signal: "view", user: "u2", idempotency_key: "once" });
  const again = await writer.ingest({ item: "v3", signal: "view", user: "u2", idempotency_key: "once" });
  assert.equal(again.duplicate, true);
  assert.equal(again.sequence, once.sequence);
  await writer.ingest({ item: "v1", signal: "like", user: "u1" });
  const events = await writer.ingestBatch([{ item: "v4", signal: "view" }, { item: "v4", signal: "nope" }]);
  assert.deepEqual([events.accepted, events.rejected], [1, 1]);
  async function* likes() {
    for (let i = 0; i < 7; ++i) yield { item: "v5", signal: "like", user: `u${i}` };
    yield { item: "v5", signal: "colour" };
  }
  const report = await writer.bulk("events", likes(), { chunkLines: 3 });
  assert.deepEqual([report.accepted, report.rejected], [7, 1]);
  assert.equal(report.errors[0].line, 8);
  assert.equal(report.errors[0].error.field, "signal");

  const top = await reader.query("TRENDING items BY like WINDOW 1h LIMIT 2");
  assert.deepEqual(top.keys, ["v5", "v1"]);
  assert.equal(top.rows[0].score, 7);
  const page = await reader.query("RANK items BY duration LIMIT 2");
  const next = await reader.query(`RANK items BY duration LIMIT 2 CURSOR '${page.cursor}'`);
  assert.equal(next.keys.filter((k) => page.keys.includes(k)).length, 0);
  assert.equal((await reader.query({ json: { statement: "count", target: "items" } })).count, 11);
  assert.ok((await reader.query("RANK items BY hot LIMIT 1", { plan: true })).plan.length > 0);
  const signals = await reader.itemSignals("v5");
  const like = signals.signals.find((s) => s.signal === "like");
  assert.equal(like.windows.find((w) => w.window === "1h").count, 7);
  await writer.delete("items", "v11");
  await assert.rejects(reader.get("items", "v11"), (e) => e instanceof TidalError && e.status === 404 && e.code === "not_found");
});

test("relationships, profiles, cohorts, schema and the server", async () => {
  await writer.upsert("users", "u1", { age: 21, country: "US" });
  await writer.relate("u1", "follow", "creator", "studio_9");
  assert.match(JSON.stringify(await reader.followers("creators", "studio_9")), /u1/);
  assert.match(JSON.stringify(await reader.relationships("u1")), /studio_9/);
  await reader.affinities("u1");
  await admin.putProfile("engaging", "0.5 * log1p(decay(like)) + 0.5 * freshness(6h)");
  assert.equal((await reader.profile("engaging")).name, "engaging");
  assert.match(JSON.stringify(await reader.profiles()), /engaging/);
  await admin.createCohort("young", "age < 30");
  assert.match(JSON.stringify(await reader.cohorts()), /young/);
  assert.match(JSON.stringify(await reader.userCohorts("u1")), /young/);
  await reader.cohort("young");
  await admin.dropCohort("young");
  const s = await admin.addAttribute("item", { name: "mood", type: "keyword", filterable: true });
  assert.ok(s.attributes.item.some((a) => a.name === "mood"));
  await admin.addSignal({ name: "save", half_life: "1d", windows: ["1d"] });
  assert.ok((await reader.schema()).signals.some((x) => x.name === "save"));
  assert.equal((await reader.health()).status, "ok");
  assert.ok("mode" in (await reader.present()));
  assert.match(await reader.metrics(), /tidal_events_applied_total/);
  await admin.checkpoint();
});

test("errors and scopes", async () => {
  await assert.rejects(reader.query("RANK items BY"), (e) => e.status === 400 && e.code === "invalid_argument");
  await assert.rejects(reader.ingest({ item: "v1", signal: "like" }), (e) => e.status === 403 && e.field === "authorization");
  await assert.rejects(new Client(url).schema(), (e) => e.status === 401 && e.code === "unauthenticated");
  await assert.rejects(writer.upsert("items", "v1", { colour: "red" }), (e) => e.field.includes("colour"));
  const down = new Client("http://127.0.0.1:9", { key: ADMIN, retries: 1, backoffMs: 1 });
  await assert.rejects(down.get("items", "v1"), (e) => e instanceof TidalError && e.status === 0);
  assert.throws(() => new Client("ftp://x"), TypeError);
});
