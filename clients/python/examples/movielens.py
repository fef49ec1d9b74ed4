"""Loads MovieLens ml-latest-small into a tidalDB server and asks what was
trending at the end of the data and which movies match a search.

    tidal serve --data ./movielens --historical      # ratings are from 1996-2018
    python3 movielens.py path/to/ml-latest-small [http://127.0.0.1:8080] [admin-key]
"""

import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tidaldb import Client  # noqa: E402


def main() -> None:
    data = sys.argv[1]
    db = Client(sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8080",
                key=sys.argv[3] if len(sys.argv) > 3 else None)

    # The default schema has a text title; genres are tags (a migration).
    if "genres" not in [a["name"] for a in db.schema()["attributes"]["item"]]:
        db.add_attribute("item", {"name": "genres", "type": "tags", "filterable": True})

    with open(os.path.join(data, "movies.csv"), newline="", encoding="utf-8") as f:
        movies = ({"key": f"m{r['movieId']}",
                   "attributes": {"title": r["title"],
                                  "genres": [g for g in r["genres"].split("|") if g != "(no genres listed)"]}}
                  for r in csv.DictReader(f))
        report = db.bulk("items", movies)
    print(f"movies: {report.accepted} accepted, {report.rejected} rejected")

    # A rating of 4 or more is a like, anything lower a view.
    with open(os.path.join(data, "ratings.csv"), newline="", encoding="utf-8") as f:
        events = ({"item": f"m{r['movieId']}", "user": f"u{r['userId']}",
                   "signal": "like" if float(r["rating"]) >= 4 else "view",
                   "timestamp": int(r["timestamp"]),
                   "idempotency_key": f"{r['userId']}:{r['movieId']}"}
                  for r in csv.DictReader(f))
        report = db.bulk("events", events)
    print(f"ratings: {report.accepted} accepted ({report.duplicates} already there), {report.rejected} rejected")
    for line, error in report.errors[:5]:
        print(f"  line {line}: {error.message}")

    print("\nTrending (likes in the last 7 days of the data):")
    for row in db.query("TRENDING items BY like WINDOW 7d LIMIT 5").rows:
        print(f"  {row['score']:>4.0f}  {db.get('items', row['key'])['attributes']['title']}")

    print("\nSearch 'star wars', ranked by relevance:")
    for row in db.query("SEARCH items QUERY 'star wars' LIMIT 5").rows:
        print(f"  {row['score']:6.2f}  {db.get('items', row['key'])['attributes']['title']}")

    print(f"\nDramas: {db.count('items', chr(39) + 'Drama' + chr(39) + ' IN genres')}")


if __name__ == "__main__":
    main()
