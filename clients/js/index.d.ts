// Types of tidalDB's JavaScript client (index.js).

export type Kind = "items" | "users" | "creators" | "item" | "user" | "creator";
export type BatchMode = "apply_valid" | "all_or_nothing";
export type AttributeValue = string | number | boolean | string[] | number[] | null;

export class TidalError extends Error {
  constructor(status: number, code: string, message: string, field?: string);
  /** HTTP status; 0 when the server could not be reached. */
  status: number;
  /** The server's error code: "invalid_argument", "not_found", "unauthenticated", ... */
  code: string;
  /** The server's message. */
  detail: string;
  /** The request field the error names ("" if none). */
  field: string;
}

export interface ClientOptions {
  key?: string;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

export interface SignalEvent {
  item: string;
  signal: string;
  user?: string;
  timestamp?: string | number;
  value?: number;
  idempotency_key?: string;
}

export interface Entity {
  kind: string;
  key: string;
  attributes: Record<string, AttributeValue>;
}

export interface EntityInput {
  key: string;
  attributes: Record<string, AttributeValue>;
}

export interface RelationshipInput {
  user: string;
  relation: "follow" | "block" | "mute";
  target_kind: "user" | "creator" | "item";
  target: string;
  active?: boolean;
}

export interface BatchOutcome {
  accepted: number;
  rejected: number;
  duplicates: number;
  last_sequence: number;
  errors: { index: number; error: { code: string; message: string; field?: string } }[];
  errors_omitted?: number;
}

export interface BulkReport {
  accepted: number;
  rejected: number;
  duplicates: number;
  errors: { line: number; error: TidalError }[];
}

export interface PlanStage {
  stage: string;
  detail: string;
  rows_in: number;
  rows_out: number;
  micros: number;
}

export interface QueryResult {
  rows: { key: string; score: number | "NaN" | "Infinity" | "-Infinity" }[];
  cursor: string;
  count?: number;
  message: string;
  tookMs: number;
  plan: PlanStage[];
  explain: string;
  readonly keys: string[];
}

export class Client {
  constructor(url?: string, options?: ClientOptions);
  readonly url: string;

  health(): Promise<Record<string, unknown>>;
  metrics(): Promise<string>;
  present(): Promise<Record<string, unknown>>;
  setPresent(mode: "live" | "historical", at?: string): Promise<Record<string, unknown>>;
  checkpoint(): Promise<Record<string, unknown>>;

  ingest(event: SignalEvent): Promise<{ sequence: number; duplicate?: boolean }>;
  ingestBatch(events: SignalEvent[], mode?: BatchMode): Promise<BatchOutcome>;
  bulk(
    kind: "events" | Kind,
    records: Iterable<object> | AsyncIterable<object>,
    options?: { chunkLines?: number },
  ): Promise<BulkReport>;
  itemSignals(key: string, cohort?: string): Promise<Record<string, unknown>>;

  upsert(kind: Kind, key: string, attributes: Record<string, AttributeValue>): Promise<{ sequence: number }>;
  patch(kind: Kind, key: string, attributes: Record<string, AttributeValue>): Promise<{ sequence: number }>;
  get(kind: Kind, key: string): Promise<Entity>;
  delete(kind: Kind, key: string): Promise<{ sequence: number }>;
  upsertBatch(kind: Kind, entities: EntityInput[], mode?: BatchMode): Promise<BatchOutcome>;
  list(kind: Kind, where?: string, options?: { pageSize?: number }): AsyncGenerator<Entity>;
  count(kind: Kind, where?: string): Promise<number>;

  relate(
    user: string,
    relation: "follow" | "block" | "mute",
    targetKind: "user" | "creator" | "item",
    target: string,
    active?: boolean,
  ): Promise<{ sequence: number }>;
  relateBatch(relationships: RelationshipInput[], mode?: BatchMode): Promise<BatchOutcome>;
  followers(kind: Kind, key: string): Promise<Record<string, unknown>>;
  relationships(user: string): Promise<Record<string, unknown>>;
  affinities(user: string): Promise<Record<string, unknown>>;

  query(tql: string | { json: object }, options?: { timeBudgetMs?: number; plan?: boolean }): Promise<QueryResult>;

  schema(): Promise<Record<string, unknown>>;
  addSignal(spec: object): Promise<Record<string, unknown>>;
  addAttribute(kind: "item" | "user" | "creator", spec: object): Promise<Record<string, unknown>>;
  profiles(): Promise<{ profiles: { name: string; expression: string }[] }>;
  profile(name: string): Promise<{ name: string; expression: string }>;
  putProfile(name: string, expression: string): Promise<{ name: string; message: string }>;
  cohorts(): Promise<Record<string, unknown>>;
  cohort(name: string): Promise<Record<string, unknown>>;
  createCohort(name: string, where: string): Promise<Record<string, unknown>>;
  dropCohort(name: string): Promise<Record<string, unknown>>;
  userCohorts(user: string): Promise<Record<string, unknown>>;
}
