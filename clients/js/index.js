// tidalDB's JavaScript client: the HTTP API (docs/http-api.md) over fetch,
// for Node 18+ and browsers. Types: index.d.ts.
//
// Errors are TidalError with the server's code, message and field. Writes
// that are safe to repeat (events with an idempotency key, which the client
// adds when none is given; PUT, PATCH and DELETE of an entity; relationship
// writes; reads) are retried on a network failure or a 5xx answer.

const KINDS = ["items", "users", "creators"];

export class TidalError extends Error {
  constructor(status, code, message, field = "") {
    super(`${code}: ${message}${field ? ` (field ${field})` : ""}`);
    this.name = "TidalError";
    this.status = status;
    this.code = code;
    this.detail = message;
    this.field = field;
  }
}

function kindPath(kind) {
  const plural = kind.endsWith("s") ? kind : `${kind}s`;
  if (!KINDS.includes(plural)) {
    throw new TypeError(`kind must be items, users or creators, not ${JSON.stringify(kind)}`);
  }
  return plural;
}

function newKey() {
  return globalThis.crypto?.randomUUID
    ? globalThis.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

const q = (s) => encodeURIComponent(s);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function errorFrom(res) {
  const text = await res.text();
  try {
    const e = JSON.parse(text).error;
    return new TidalError(res.status, e.code ?? "unknown", e.message ?? "", e.field ?? "");
  } catch {
    return new TidalError(res.status, "http_error", `HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
}

export class Client {
  /**
   * @param {string} url  e.g. "http://127.0.0.1:8080"
   * @param {{key?: string, retries?: number, backoffMs?: number, timeoutMs?: number}} [options]
   */
  constructor(url = "http://127.0.0.1:8080", options = {}) {
    if (!/^https?:\/\//.test(url)) throw new TypeError(`url must start with http:// or https://, not ${url}`);
    this.url = url.replace(/\/+$/, "");
    this.key = options.key;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 30000;
  }

  async #request(method, path, { body, params, retry = false, raw, contentType, okStatuses = [], text = false } = {}) {
    let target = this.url + path;
    if (params) {
      const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null);
      if (entries.length) target += `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
    }
    const headers = { Accept: "application/json" };
    const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers["Content-Type"] = contentType ?? "application/json";
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    const attempts = retry ? this.retries + 1 : 1;
    let last;
    for (let attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0) await sleep(this.backoffMs * 2 ** (attempt - 1));
      let res;
      try {
        res = await fetch(target, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (e) {
        last = new TidalError(0, "unavailable", `cannot reach ${this.url}: ${e.cause?.code ?? e.message}`);
        continue;
      }
      if (res.ok || okStatuses.includes(res.status)) {
        if (text) return res.text();
        const t = await res.text();
        return t.trim() ? JSON.parse(t) : null;
      }
      last = await errorFrom(res);
      if (res.status < 500) throw last;
    }
    throw last;
  }

  // ---- server
  health() { return this.#request("GET", "/health", { retry: true, okStatuses: [503] }); }
  metrics() { return this.#request("GET", "/metrics", { retry: true, text: true }); }
  present() { return this.#request("GET", "/v1/present", { retry: true }); }
  setPresent(mode, at) { return this.#request("POST", "/v1/present", { body: at ? { mode, at } : { mode }, retry: true }); }
  checkpoint() { return this.#request("POST", "/v1/checkpoint", { body: {}, retry: true }); }

  // ---- events
  ingest(event) {
    const e = { idempotency_key: newKey(), ...event };
    return this.#request("POST", "/v1/events", { body: e, retry: true });
  }
  ingestBatch(events, mode = "apply_valid") {
    const keyed = events.map((e) => ({ idempotency_key: newKey(), ...e }));
    return this.#request("POST", "/v1/events/batch", { body: { events: keyed, mode }, retry: true, okStatuses: [400] });
  }
  /**
   * Streams records as NDJSON to /v1/events/bulk or /v1/{kind}/bulk in chunks;
   * reports each rejected record by its line, counted from 1 over all records.
   */
  async bulk(kind, records, { chunkLines = 5000 } = {}) {
    if (kind !== "events") kindPath(kind);
    const path = kind === "events" ? "/v1/events/bulk" : `/v1/${kindPath(kind)}/bulk`;
    const report = { accepted: 0, rejected: 0, duplicates: 0, errors: [] };
    let chunk = [];
    let firstLine = 1;
    const flush = async () => {
      if (!chunk.length) return;
      const out = await this.#request("POST", path, {
        raw: `${chunk.join("\n")}\n`, contentType: "application/x-ndjson", retry: true, okStatuses: [400],
      });
      report.accepted += out.accepted ?? 0;
      report.rejected += out.rejected ?? 0;
      report.duplicates += out.duplicates ?? 0;
      for (const e of out.errors ?? []) {
        report.errors.push({
          line: firstLine + e.line - 1,
          error: new TidalError(400, e.error.code, e.error.message, e.error.field ?? ""),
        });
      }
      firstLine += chunk.length;
      chunk = [];
    };
    for await (const r of records) {
      chunk.push(JSON.stringify(kind === "events" ? { idempotency_key: newKey(), ...r } : r));
      if (chunk.length >= chunkLines) await flush();
    }
    await flush();
    return report;
  }
  itemSignals(key, cohort) { return this.#request("GET", `/v1/items/${q(key)}/signals`, { params: { cohort }, retry: true }); }

  // ---- entities
  upsert(kind, key, attributes) { return this.#request("PUT", `/v1/${kindPath(kind)}/${q(key)}`, { body: { attributes }, retry: true }); }
  patch(kind, key, attributes) { return this.#request("PATCH", `/v1/${kindPath(kind)}/${q(key)}`, { body: { attributes }, retry: true }); }
  get(kind, key) { return this.#request("GET", `/v1/${kindPath(kind)}/${q(key)}`, { retry: true }); }
  delete(kind, key) { return this.#request("DELETE", `/v1/${kindPath(kind)}/${q(key)}`, { retry: true }); }
  upsertBatch(kind, entities, mode = "apply_valid") {
    const k = kindPath(kind);
    return this.#request("POST", `/v1/${k}/batch`, { body: { [k]: entities, mode }, retry: true, okStatuses: [400] });
  }
  /** Every entity GET /v1/{kind}?where=... lists, first seen first. */
  async *list(kind, where, { pageSize = 100 } = {}) {
    const k = kindPath(kind);
    let cursor;
    do {
      const out = await this.#request("GET", `/v1/${k}`, { params: { where, limit: pageSize, cursor }, retry: true });
      yield* out[k];
      cursor = out.cursor;
    } while (cursor);
  }
  async count(kind, where) {
    const r = await this.query(`COUNT ${kindPath(kind)}${where ? ` WHERE ${where}` : ""}`);
    return r.count;
  }

  // ---- relationships
  relate(user, relation, targetKind, target, active = true) {
    return this.#request("POST", "/v1/relationships", {
      body: { user, relation, target_kind: targetKind, target, active }, retry: true,
    });
  }
  relateBatch(relationships, mode = "apply_valid") {
    return this.#request("POST", "/v1/relationships/batch", { body: { relationships, mode }, retry: true, okStatuses: [400] });
  }
  followers(kind, key) { return this.#request("GET", `/v1/${kindPath(kind)}/${q(key)}/followers`, { retry: true }); }
  relationships(user) { return this.#request("GET", `/v1/users/${q(user)}/relationships`, { retry: true }); }
  affinities(user) { return this.#request("GET", `/v1/users/${q(user)}/affinities`, { retry: true }); }

  // ---- queries
  /** TQL text, or {json: <the JSON form>}; options: timeBudgetMs, plan. */
  async query(tql, { timeBudgetMs, plan } = {}) {
    const body = typeof tql === "string" ? { tql } : { query: tql.json };
    if (timeBudgetMs !== undefined) body.time_budget_ms = timeBudgetMs;
    if (plan) body.plan = true;
    const writes = typeof tql === "string" && /^\s*(CREATE|DROP)\b/i.test(tql);
    const out = await this.#request("POST", "/v1/query", { body, retry: !writes });
    return { rows: out.rows ?? [], cursor: out.cursor ?? "", count: out.count, message: out.message ?? "",
             tookMs: out.took_ms ?? 0, plan: out.plan ?? [], explain: out.explain ?? "",
             get keys() { return this.rows.map((r) => r.key); } };
  }

  // ---- schema, profiles, cohorts
  schema() { return this.#request("GET", "/v1/schema", { retry: true }); }
  addSignal(spec) { return this.#request("POST", "/v1/schema/signals", { body: spec }); }
  addAttribute(kind, spec) { return this.#request("POST", "/v1/schema/attributes", { body: { kind, ...spec } }); }
  profiles() { return this.#request("GET", "/v1/profiles", { retry: true }); }
  profile(name) { return this.#request("GET", `/v1/profiles/${q(name)}`, { retry: true }); }
  putProfile(name, expression) { return this.#request("PUT", `/v1/profiles/${q(name)}`, { body: { expression }, retry: true }); }
  cohorts() { return this.#request("GET", "/v1/cohorts", { retry: true }); }
  cohort(name) { return this.#request("GET", `/v1/cohorts/${q(name)}`, { retry: true }); }
  createCohort(name, where) { return this.#request("POST", "/v1/cohorts", { body: { name, where } }); }
  dropCohort(name) { return this.#request("DELETE", `/v1/cohorts/${q(name)}`, { retry: true }); }
  userCohorts(user) { return this.#request("GET", `/v1/users/${q(user)}/cohorts`, { retry: true }); }
}
