// Loads MovieLens ml-latest-small into a tidalDB server and asks what was
// trending at the end of the data and which movies match a search.
//
//   tidal serve --data ./movielens --historical      # ratings are from 1996-2018
//   node movielens.mjs path/to/ml-latest-small [http://127.0.0.1:8080] [admin-key]
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { Client } from "../index.js";

const [data, url = "http://127.0.0.1:8080", key] = process.argv.slice(2);
const db = new Client(url, { key });

// The rows of a CSV file as objects (MovieLens quotes titles with commas).
async function* csv(path) {
  let header;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    const cells = [];
    let cell = "", quoted = false;
    for (let i = 0; i < line.length; ++i) {
      const c = line[i];
      if (quoted && c === '"' && line[i + 1] === '"') { cell += '"'; ++i; }
      else if (c === '"') quoted = !quoted;
      else if (c === "," && !quoted) { cells.push(cell); cell = ""; }
      else cell += c;
    }
    cells.push(cell);
    if (!header) header = cells;
    else yield Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  }
}

// The default schema has a text title; genres are tags (a migration).
if (!(await db.schema()).attributes.item.some((a) => a.name === "genres")) {
  await db.addAttribute("item", { name: "genres", type: "tags", filterable: true });
}

async function* movies() {
  for await (const r of csv(join(data, "movies.csv"))) {
    yield { key: `m${r.movieId}`,
            attributes: { title: r.title, genres: r.genres.split("|").filter((g) => g !== "(no genres listed)") } };
  }
}
let report = await db.bulk("items", movies());
console.log(`movies: ${report.accepted} accepted, ${report.rejected} rejected`);

// A rating of 4 or more is a like, anything lower a view.
async function* ratings() {
  for await (const r of csv(join(data, "ratings.csv"))) {
    yield { item: `m${r.movieId}`, user: `u${r.userId}`, signal: Number(r.rating) >= 4 ? "like" : "view",
            timestamp: Number(r.timestamp), idempotency_key: `${r.userId}:${r.movieId}` };
  }
}
report = await db.bulk("events", ratings());
console.log(`ratings: ${report.accepted} accepted (${report.duplicates} already there), ${report.rejected} rejected`);

const title = async (key) => (await db.get("items", key)).attributes.title;
console.log("\nTrending (likes in the last 7 days of the data):");
for (const row of (await db.query("TRENDING items BY like WINDOW 7d LIMIT 5")).rows) {
  console.log(`  ${String(row.score).padStart(4)}  ${await title(row.key)}`);
}
console.log("\nSearch 'star wars', ranked by relevance:");
for (const row of (await db.query("SEARCH items QUERY 'star wars' LIMIT 5")).rows) {
  console.log(`  ${row.score.toFixed(2).padStart(6)}  ${await title(row.key)}`);
}
console.log(`\nDramas: ${await db.count("items", "'Drama' IN genres")}`);
