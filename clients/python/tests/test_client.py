"""The Python client against a live `tidal serve` (run by ctest: clients.python).

TIDAL_BIN names the tidal binary. Every route family, API key scopes and
errors are exercised; each assertion compares with what the server holds.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tidaldb import Client, TidalError  # noqa: E402

ADMIN, WRITE, SEARCH = "admin-key-for-tests-0123456789", "write-key-for-tests-012345678", "search-key-for-tests-01234567"


class LiveServer:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="tidal-py-")
        env = dict(os.environ, TIDAL_API_KEYS=f"admin:{ADMIN},write:{WRITE},search:{SEARCH}")
        self.proc = subprocess.Popen(
            [os.environ.get("TIDAL_BIN", "tidal"), "serve", "--data", os.path.join(self.dir, "db"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        deadline = time.time() + 30
        self.url = None
        while time.time() < deadline and self.url is None:
            line = self.proc.stdout.readline()
            m = re.search(r"listening on (http://[0-9.]+:\d+)", line)
            if m:
                self.url = m.group(1)
        if self.url is None:
            self.stop()
            raise RuntimeError("tidal serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = LiveServer()
        cls.admin = Client(cls.server.url, key=ADMIN)
        cls.writer = Client(cls.server.url, key=WRITE)
        cls.reader = Client(cls.server.url, key=SEARCH)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def test_1_entities_events_and_queries(self) -> None:
        w = self.writer
        w.upsert("items", "v1", {"title": "Cats on a piano", "category": "pets", "duration": 95, "creator": "studio_9"})
        out = w.upsert_batch("items", [{"key": f"v{i}", "attributes": {"category": "music", "duration": i}}
                                       for i in range(2, 12)] + [{"key": "bad", "attributes": {"duration": "x"}}])
        self.assertEqual(out["accepted"], 10)
        self.assertEqual(out["errors"][0]["index"], 10)
        self.assertEqual(self.reader.get("items", "v1")["attributes"]["category"], "pets")
        w.patch("items", "v2", {"category": "pets"})
        self.assertEqual(self.reader.count("items", "category = 'pets'"), 2)
        listed = [e["key"] for e in self.reader.list("items", "category = 'music'", page_size=3)]
        self.assertEqual(listed, [f"v{i}" for i in range(3, 12)])

        first = w.ingest("v1", "like", user="u1")
        again = w.ingest("v1", "like", user="u1", idempotency_key=None)
        self.assertNotEqual(first["sequence"], again["sequence"])  # two events: two keys
        k = w.ingest("v3", "view", user="u2", idempotency_key="once")
        dup = w.ingest("v3", "view", user="u2", idempotency_key="once")
        self.assertTrue(dup.get("duplicate"))
        self.assertEqual(k["sequence"], dup["sequence"])
        batch = w.ingest_batch([{"item": "v4", "signal": "view"}, {"item": "v4", "signal": "nope"}])
        self.assertEqual((batch["accepted"], batch["rejected"]), (1, 1))
        report = w.bulk("events", ([{"item": "v5", "signal": "like", "user": f"u{i}"} for i in range(7)]
                                   + [{"item": "v5", "signal": "colour"}]), chunk_lines=3)
        self.assertEqual((report.accepted, report.rejected), (7, 1))
        self.assertEqual(report.errors[0][0], 8)
        self.assertEqual(report.errors[0][1].field, "signal")

        top = self.reader.query("TRENDING items BY like WINDOW 1h LIMIT 2")
        self.assertEqual(top.keys, ["v5", "v1"])
        self.assertEqual(top.rows[0]["score"], 7)
        page = self.reader.query("RANK items BY duration LIMIT 2")
        self.assertTrue(page.cursor)
        nxt = self.reader.query(f"RANK items BY duration LIMIT 2 CURSOR '{page.cursor}'")
        self.assertEqual(len(set(page.keys) & set(nxt.keys)), 0)
        j = self.reader.query(json_form={"statement": "count", "target": "items"})
        self.assertEqual(j.count, 11)
        plan = self.reader.query("RANK items BY hot LIMIT 1", plan=True)
        self.assertTrue(plan.plan)
        signals = self.reader.item_signals("v5")
        like = [s for s in signals["signals"] if s["signal"] == "like"][0]
        self.assertEqual([w["count"] for w in like["windows"] if w["window"] == "1h"], [7])
        w.delete("items", "v11")
        with self.assertRaises(TidalError) as gone:
            self.reader.get("items", "v11")
        self.assertEqual((gone.exception.status, gone.exception.code), (404, "not_found"))

    def test_2_relationships_profiles_cohorts_schema(self) -> None:
        w, a = self.writer, self.admin
        w.upsert("users", "u1", {"age": 21, "country": "US"})
        w.upsert("users", "u2", {"age": 40, "country": "FR"})
        w.relate("u1", "follow", "creator", "studio_9")
        self.assertIn("u1", str(self.reader.followers("creators", "studio_9")))
        self.assertIn("studio_9", str(self.reader.relationships("u1")))
        self.reader.affinities("u1")
        a.put_profile("engaging", "0.5 * log1p(decay(like)) + 0.5 * freshness(6h)")
        self.assertIn("engaging", str(self.reader.profiles()))
        self.assertEqual(self.reader.profile("engaging")["name"], "engaging")
        a.create_cohort({"name": "young", "where": "age < 30"})
        self.assertIn("young", str(self.reader.cohorts()))
        self.assertIn("young", str(self.reader.user_cohorts("u1")))
        self.reader.cohort("young")
        a.drop_cohort("young")
        s = a.add_attribute("item", {"name": "mood", "type": "keyword", "filterable": True})
        self.assertIn("mood", [x["name"] for x in s["attributes"]["item"]])
        a.add_signal({"name": "save", "half_life": "1d", "windows": ["1d"]})
        self.assertIn("save", [x["name"] for x in self.reader.schema()["signals"]])
        self.assertEqual(self.reader.health()["status"], "ok")
        self.assertIn("mode", self.reader.present())
        self.assertIn("tidal_events_applied_total", self.reader.metrics())
        a.checkpoint()

    def test_3_errors_and_scopes(self) -> None:
        with self.assertRaises(TidalError) as bad:
            self.reader.query("RANK items BY")
        self.assertEqual((bad.exception.status, bad.exception.code), (400, "invalid_argument"))
        with self.assertRaises(TidalError) as scope:
            self.reader.ingest("v1", "like")
        self.assertEqual(scope.exception.status, 403)
        self.assertEqual(scope.exception.field, "authorization")
        with self.assertRaises(TidalError) as nokey:
            Client(self.server.url).schema()
        self.assertEqual((nokey.exception.status, nokey.exception.code), (401, "unauthenticated"))
        with self.assertRaises(TidalError) as field:
            self.writer.upsert("items", "v1", {"colour": "red"})
        self.assertIn("colour", field.exception.field)
        down = Client("http://127.0.0.1:9", key=ADMIN, retries=1, backoff=0.01)
        with self.assertRaises(TidalError) as unreachable:
            down.get("items", "v1")
        self.assertEqual(unreachable.exception.status, 0)
        with self.assertRaises(ValueError):
            Client("ftp://x")


if __name__ == "__main__":
    unittest.main(verbosity=2)
