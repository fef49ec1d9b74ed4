"""tidalDB's Python client: the HTTP API (docs/http-api.md) with the standard library."""

from .client import BulkReport, Client, QueryResult, TidalError

__all__ = ["Client", "TidalError", "QueryResult", "BulkReport"]
__version__ = "0.1.0"
