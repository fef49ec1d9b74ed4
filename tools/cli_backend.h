// What `tidal query` and `tidal shell` run statements against: a database
// they open in this process (--data DIR), or a running server over its HTTP
// API (--url URL [--key KEY], or TIDAL_URL / TIDAL_KEY). The output is the
// same either way (docs/cli.md, "Talking to a server").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_commands.h"
#include "http_client.h"
#include "tidal/database.h"

namespace tidal::cli {

class Backend {
 public:
  virtual ~Backend() = default;
  // "./data" or "http://127.0.0.1:8080": where statements go.
  virtual std::string where() const = 0;
  virtual Result<QueryResult> query(const std::string& tql, const QueryOptions& options) = 0;
  virtual Result<Schema> schema() = 0;
  // For a result table: the display cells (attribute_cell) of `attributes`
  // for each of `keys`, "-" where an entity has no value (or is unknown).
  virtual std::vector<std::vector<std::string>> cells(
      EntityKind kind, const std::vector<std::string>& keys,
      const std::vector<std::string>& attributes) = 0;
  // The shell's \stats: counter and value rows.
  virtual Result<std::vector<std::vector<std::string>>> stats() = 0;
  // After a CREATE COHORT: waits for its backfill (a local database), or
  // says the server goes on with it.
  virtual bool wait_for_backfills() = 0;
  // Closes a local database (checkpoint included). False after printing why.
  virtual bool close() = 0;
};

// --url/--key, else TIDAL_URL/TIDAL_KEY: nullopt when no server is named.
// *bad is set (after printing why) when a flag is given without a value.
std::optional<ServerTarget> server_target(const Args& args, bool* bad);

// The backend the command line names: a server (checked with GET /health,
// so a server that is down or refuses the key fails here with one line), or
// the database in --data DIR. Prints why and returns null on failure;
// *usage is set when the command line itself was wrong (exit status 2).
std::unique_ptr<Backend> open_backend(const Args& args, bool* usage);

// A client for `target`, checked: the server answers /health and accepts
// the key (an authenticated request). Prints one line and returns null when
// it cannot be used.
std::unique_ptr<HttpClient> connect_server(const ServerTarget& target);

// The server's schema (GET /v1/schema read back as a Schema).
Result<Schema> server_schema(HttpClient& http);
// The server's GET /health as (name, value) rows: status, writable, version,
// sequences, uptime and the present's mode; *present, when given, gets the
// whole present object as JSON.
Result<std::vector<std::vector<std::string>>> server_health(HttpClient& http,
                                                            std::string* present = nullptr);

}  // namespace tidal::cli
