// HttpServer: HTTP/1.1 over TCP (Boost.Beast on Asio), handing each request
// to one handler function. It knows nothing about tidalDB: routes, auth and
// JSON live in server/api.h.
//
// Connections are kept alive and spread over `io_threads` event loops, one
// thread each: a connection's requests run one after another on its loop,
// with no locks or wake-ups between threads. Requests that may block (a
// durable write waits for fsync) — those the classifier names — run on a
// pool of `threads` workers instead, so a loop never waits for the disk;
// their responses go back through the connection's loop.
//
// Limits: a request's header block is at most 64 KiB and its body at most
// max_body_bytes (a 413 with a JSON error otherwise); a connection idle for
// idle_timeout is closed. A request Beast cannot parse gets a 400 and the
// connection is closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tidal/status.h"

namespace tidal::server {

struct HttpRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query string, as sent
  std::string_view body;
  std::string_view content_type;
  std::string_view authorization;  // the Authorization header
  std::string_view api_key;        // the X-API-Key header
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;
// Whether a request may block (and so runs on a worker thread).
using HttpClassifier = std::function<bool(const HttpRequest&)>;

struct HttpServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;   // 0: any free port (see HttpServer::port)
  size_t io_threads = 0;  // 0: one per core
  size_t threads = 8;     // workers for requests that may block

  uint64_t max_body_bytes = 64ull << 20;
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  // Binds, listens and starts serving. kIoError naming the address when the
  // port is taken or the address is not local to this machine.
  // Without a classifier every request runs on its connection's loop.
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                   HttpHandler handler,
                                                   HttpClassifier may_block = nullptr);
  ~HttpServer();  // stop() with the default drain
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound.
  uint16_t port() const;

  // Stops accepting connections, lets requests in flight finish (for at most
  // `drain`), closes idle connections and joins the threads. Idempotent.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(30));

  // Connections open now.
  size_t connections() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tidal::server
