"""A synchronous client for tidalDB's HTTP API, standard library only.

Every route of docs/http-api.md has a method. Errors are TidalError carrying
the server's code, message and field. Writes that are safe to repeat (events
with an idempotency key, which the client adds when you give none; PUT,
PATCH and DELETE of an entity; relationship writes; reads) are retried on a
connection failure or a 503/5xx answer, with a short backoff.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence

_KINDS = ("items", "users", "creators")


class TidalError(Exception):
    """A request the server (or the network) refused.

    status: the HTTP status (0 when the server could not be reached);
    code: the server's error code ("invalid_argument", "not_found", ...);
    message: what went wrong; field: the request field it names ("" if none).
    """

    def __init__(self, status: int, code: str, message: str, field: str = "") -> None:
        super().__init__(f"{code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field


@dataclass
class QueryResult:
    """What POST /v1/query answers: rows of {key, score}, a cursor for the next
    page ("" on the last), COUNT's count, the plan (with plan=True or EXPLAIN)."""

    rows: List[Dict[str, Any]]
    cursor: str = ""
    count: Optional[int] = None
    message: str = ""
    took_ms: float = 0.0
    plan: List[Dict[str, Any]] = field(default_factory=list)
    explain: str = ""

    @property
    def keys(self) -> List[str]:
        return [r["key"] for r in self.rows]


@dataclass
class BulkReport:
    """The tally of Client.bulk: per-line errors are (line, TidalError), lines
    counted from 1 over everything sent."""

    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    errors: List[tuple] = field(default_factory=list)


def _error_from(status: int, body: bytes) -> TidalError:
    try:
        e = json.loads(body.decode("utf-8"))["error"]
        return TidalError(status, e.get("code", "unknown"), e.get("message", ""), e.get("field", ""))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return TidalError(status, "http_error", f"HTTP {status}: {body[:200]!r}")


class Client:
    """tidalDB over HTTP.

    >>> db = Client("http://127.0.0.1:8080", key="...")
    >>> db.ingest("video_1", "like", user="u_7")
    >>> db.query("TRENDING items BY like WINDOW 24h LIMIT 10").keys
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8080",
        key: Optional[str] = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    # ---- transport -------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        retry: bool = False,
        raw: Optional[bytes] = None,
        content_type: str = "application/json",
        ok_statuses: Sequence[int] = (),
    ) -> Any:
        target = self.url + path
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                target += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        attempts = self.retries + 1 if retry else 1
        last: Optional[TidalError] = None
        for attempt in range(attempts):
            if attempt > 0:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            req = urllib.request.Request(target, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    text = res.read()
                    return json.loads(text) if text.strip() else None
            except urllib.error.HTTPError as e:
                text = e.read()
                if e.code in ok_statuses:
                    return json.loads(text)
                last = _error_from(e.code, text)
                if e.code < 500:
                    raise last from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                reason = getattr(e, "reason", e)
                last = TidalError(0, "unavailable", f"cannot reach {self.url}: {reason}")
        assert last is not None
        raise last

    # ---- server ----------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """GET /health (a 503 answer — degraded — is returned, not raised)."""
        return self._request("GET", "/health", retry=True, ok_statuses=(503,))

    def metrics(self) -> str:
        req = urllib.request.Request(self.url + "/metrics", headers=self._auth())
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.read().decode()
        except urllib.error.HTTPError as e:
            raise _error_from(e.code, e.read()) from None

    def _auth(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def present(self) -> Dict[str, Any]:
        return self._request("GET", "/v1/present", retry=True)

    def set_present(self, mode: str, at: Optional[str] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"mode": mode}
        if at is not None:
            body["at"] = at
        return self._request("POST", "/v1/present", body, retry=True)

    def checkpoint(self) -> Dict[str, Any]:
        return self._request("POST", "/v1/checkpoint", {}, retry=True)

    # ---- events ----------------------------------------------------------

    @staticmethod
    def _event(item: str, signal: str, user: Optional[str], timestamp: Any, value: Optional[float],
               idempotency_key: Optional[str]) -> Dict[str, Any]:
        e: Dict[str, Any] = {"item": item, "signal": signal,
                             "idempotency_key": idempotency_key or uuid.uuid4().hex}
        if user is not None:
            e["user"] = user
        if timestamp is not None:
            e["timestamp"] = timestamp
        if value is not None:
            e["value"] = value
        return e

    def ingest(self, item: str, signal: str, user: Optional[str] = None, timestamp: Any = None,
               value: Optional[float] = None, idempotency_key: Optional[str] = None) -> Dict[str, Any]:
        """POST /v1/events. An idempotency key is added when none is given, so a
        retry after a lost answer is not counted twice."""
        event = self._event(item, signal, user, timestamp, value, idempotency_key)
        return self._request("POST", "/v1/events", event, retry=True)

    def ingest_batch(self, events: Sequence[Mapping[str, Any]], mode: str = "apply_valid") -> Dict[str, Any]:
        """POST /v1/events/batch: {accepted, rejected, duplicates, errors: [{index, error}]}.
        Events without an idempotency key get one, so the batch is safe to retry."""
        keyed = [dict(e) if "idempotency_key" in e else {**e, "idempotency_key": uuid.uuid4().hex}
                 for e in events]
        return self._request("POST", "/v1/events/batch", {"events": keyed, "mode": mode},
                             retry=True, ok_statuses=(400,))

    def bulk(self, kind: str, records: Iterable[Mapping[str, Any]], chunk_lines: int = 5000) -> BulkReport:
        """Streams records as NDJSON to /v1/events/bulk or /v1/{kind}/bulk in
        chunks of chunk_lines, and reports every rejected record by its line
        (counted from 1 over all records). kind: events, items, users, creators."""
        if kind != "events" and kind not in _KINDS:
            raise ValueError(f"kind must be events, items, users or creators, not {kind!r}")
        path = "/v1/events/bulk" if kind == "events" else f"/v1/{kind}/bulk"
        report = BulkReport()
        chunk: List[str] = []
        first_line = 1

        def flush() -> None:
            nonlocal first_line
            if not chunk:
                return
            out = self._request("POST", path, raw=("\n".join(chunk) + "\n").encode(),
                                content_type="application/x-ndjson", retry=kind == "events"
                                or kind in _KINDS, ok_statuses=(400,))
            report.accepted += out.get("accepted", 0)
            report.rejected += out.get("rejected", 0)
            report.duplicates += out.get("duplicates", 0)
            for e in out.get("errors", []):
                err = e["error"]
                report.errors.append((first_line + e["line"] - 1,
                                      TidalError(400, err.get("code", ""), err.get("message", ""),
                                                 err.get("field", ""))))
            first_line += len(chunk)
            chunk.clear()

        for r in records:
            rec = dict(r)
            if kind == "events" and "idempotency_key" not in rec:
                rec["idempotency_key"] = uuid.uuid4().hex
            chunk.append(json.dumps(rec))
            if len(chunk) >= chunk_lines:
                flush()
        flush()
        return report

    def item_signals(self, key: str, cohort: Optional[str] = None) -> Dict[str, Any]:
        return self._request("GET", f"/v1/items/{_q(key)}/signals", params={"cohort": cohort}, retry=True)

    # ---- entities --------------------------------------------------------

    def upsert(self, kind: str, key: str, attributes: Mapping[str, Any]) -> Dict[str, Any]:
        """PUT /v1/{kind}/{key}: the entity becomes exactly these attributes."""
        return self._request("PUT", f"/v1/{_kind(kind)}/{_q(key)}", {"attributes": dict(attributes)}, retry=True)

    def patch(self, kind: str, key: str, attributes: Mapping[str, Any]) -> Dict[str, Any]:
        """PATCH /v1/{kind}/{key}: sets the named attributes (None removes one)."""
        return self._request("PATCH", f"/v1/{_kind(kind)}/{_q(key)}", {"attributes": dict(attributes)}, retry=True)

    def get(self, kind: str, key: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/{_kind(kind)}/{_q(key)}", retry=True)

    def delete(self, kind: str, key: str) -> Dict[str, Any]:
        return self._request("DELETE", f"/v1/{_kind(kind)}/{_q(key)}", retry=True)

    def upsert_batch(self, kind: str, entities: Sequence[Mapping[str, Any]], mode: str = "apply_valid") -> Dict[str, Any]:
        """POST /v1/{kind}/batch with [{key, attributes}, ...]."""
        return self._request("POST", f"/v1/{_kind(kind)}/batch", {_kind(kind): list(entities), "mode": mode},
                             retry=True, ok_statuses=(400,))

    def list(self, kind: str, where: Optional[str] = None, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Every entity GET /v1/{kind}?where=... lists, first seen first, page by page."""
        cursor: Optional[str] = None
        while True:
            out = self._request("GET", f"/v1/{_kind(kind)}",
                                params={"where": where, "limit": page_size, "cursor": cursor}, retry=True)
            yield from out[_kind(kind)]
            cursor = out.get("cursor")
            if not cursor:
                return

    def count(self, kind: str, where: Optional[str] = None) -> int:
        """COUNT {kind} [WHERE where]."""
        tql = f"COUNT {_kind(kind)}" + (f" WHERE {where}" if where else "")
        count = self.query(tql).count
        assert count is not None
        return count

    # ---- relationships ---------------------------------------------------

    def relate(self, user: str, relation: str, target_kind: str, target: str, active: bool = True) -> Dict[str, Any]:
        """POST /v1/relationships: follow, block or mute (active=False undoes it)."""
        body = {"user": user, "relation": relation, "target_kind": target_kind, "target": target, "active": active}
        return self._request("POST", "/v1/relationships", body, retry=True)

    def relate_batch(self, relationships: Sequence[Mapping[str, Any]], mode: str = "apply_valid") -> Dict[str, Any]:
        return self._request("POST", "/v1/relationships/batch",
                             {"relationships": list(relationships), "mode": mode}, retry=True, ok_statuses=(400,))

    def followers(self, kind: str, key: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/{_kind(kind)}/{_q(key)}/followers", retry=True)

    def relationships(self, user: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/users/{_q(user)}/relationships", retry=True)

    def affinities(self, user: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/users/{_q(user)}/affinities", retry=True)

    # ---- queries ---------------------------------------------------------

    def query(self, tql: Optional[str] = None, *, json_form: Optional[Mapping[str, Any]] = None,
              time_budget_ms: Optional[float] = None, plan: bool = False) -> QueryResult:
        """POST /v1/query with TQL text or its JSON form (docs/tql.md)."""
        if (tql is None) == (json_form is None):
            raise ValueError("give exactly one of tql and json_form")
        body: Dict[str, Any] = {"tql": tql} if tql is not None else {"query": dict(json_form or {})}
        if time_budget_ms is not None:
            body["time_budget_ms"] = time_budget_ms
        if plan:
            body["plan"] = True
        out = self._request("POST", "/v1/query", body, retry=not _writes(tql))
        return QueryResult(rows=out.get("rows", []), cursor=out.get("cursor", ""), count=out.get("count"),
                           message=out.get("message", ""), took_ms=out.get("took_ms", 0.0),
                           plan=out.get("plan", []), explain=out.get("explain", ""))

    # ---- schema, profiles, cohorts ----------------------------------------

    def schema(self) -> Dict[str, Any]:
        return self._request("GET", "/v1/schema", retry=True)

    def add_signal(self, spec: Mapping[str, Any]) -> Dict[str, Any]:
        return self._request("POST", "/v1/schema/signals", dict(spec))

    def add_attribute(self, kind: str, spec: Mapping[str, Any]) -> Dict[str, Any]:
        return self._request("POST", "/v1/schema/attributes", {"kind": kind, **spec})

    def profiles(self) -> Dict[str, Any]:
        return self._request("GET", "/v1/profiles", retry=True)

    def profile(self, name: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/profiles/{_q(name)}", retry=True)

    def put_profile(self, name: str, expression: str) -> Dict[str, Any]:
        return self._request("PUT", f"/v1/profiles/{_q(name)}", {"expression": expression}, retry=True)

    def cohorts(self) -> Dict[str, Any]:
        return self._request("GET", "/v1/cohorts", retry=True)

    def cohort(self, name: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/cohorts/{_q(name)}", retry=True)

    def create_cohort(self, body: Mapping[str, Any]) -> Dict[str, Any]:
        """POST /v1/cohorts with {"name", "where"}: the predicate over user attributes."""
        return self._request("POST", "/v1/cohorts", dict(body))

    def drop_cohort(self, name: str) -> Dict[str, Any]:
        return self._request("DELETE", f"/v1/cohorts/{_q(name)}", retry=True)

    def user_cohorts(self, user: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/users/{_q(user)}/cohorts", retry=True)


def _q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def _kind(kind: str) -> str:
    plural = kind if kind.endswith("s") else kind + "s"
    if plural not in _KINDS:
        raise ValueError(f"kind must be items, users or creators, not {kind!r}")
    return plural


def _writes(tql: Optional[str]) -> bool:
    word = (tql or "").lstrip().split(" ", 1)[0].upper()
    return word in ("CREATE", "DROP")
