// Api: tidalDB's HTTP API (docs/http-api.md) as a function from a request to
// a response, independent of the transport — HttpServer calls it for every
// request, the fuzz target and unit tests call it directly.
//
// Every response body is JSON (except /metrics). Client errors are 4xx with
// {"error": {"code", "message", "field"}}; a 5xx means the server or the
// disk failed, never that the request was wrong.
#pragma once

#include <chrono>
#include <memory>
#include <shared_mutex>
#include <string>

#include "server/auth.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "tidal/database.h"

namespace tidal::server {

struct ApiOptions {
  // No keys configured: every request has the admin scope (the server then
  // listens on loopback only).
  bool open_access = false;
  // The most entries one batch request may carry.
  size_t max_batch_entries = 100'000;
};

class Api {
 public:
  Api(std::unique_ptr<Database> db, ApiOptions options, KeyStore keys);
  ~Api();

  void handle(const HttpRequest& request, HttpResponse* response);

  // Whether handling `request` may wait for the disk: the routes the table
  // marks (every write), and a POST /v1/query whose statement writes. Reads,
  // and requests no route takes, answer from memory. HttpServer runs the
  // first kind on worker threads (its HttpClassifier).
  static bool may_block(const HttpRequest& request);

  // Checkpoints and closes the database. Call after the HTTP server stopped.
  Status close();

  const Metrics& metrics() const { return metrics_; }

  class Request;  // one request being handled (api.cc)

 private:
  friend class Request;

  ApiOptions options_;
  KeyStore keys_;
  Metrics metrics_;
  std::chrono::steady_clock::time_point started_;
  // Shared by every request; exclusive while close() closes the database.
  std::shared_mutex db_mu_;
  std::unique_ptr<Database> db_;
};

// Starts an HttpServer that hands every request to `api`, running the ones
// Api::may_block() names on its worker threads. `api` must outlive it.
Result<std::unique_ptr<HttpServer>> start_http(Api& api, const HttpServerOptions& options);

}  // namespace tidal::server
