// A small HTTP/1.1 client for the commands that talk to a running server
// (`--url URL [--key KEY]`, docs/cli.md "Talking to a server"): one
// keep-alive connection, plain HTTP (put TLS in front of tidal serve with a
// proxy), requests one at a time. Built on Boost.Beast, which the server
// uses too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tidal/status.h"

namespace tidal::cli {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // Reads `url` (http://host[:port][/prefix]); InvalidArgument naming
  // "--url" when it is not one. Connects on the first request.
  static Result<std::unique_ptr<HttpClient>> create(std::string_view url, std::string key);
  ~HttpClient();

  const std::string& url() const { return url_; }

  // One request. IoError, saying the server cannot be reached, when the
  // connection fails (one reconnect is tried when a kept-alive connection
  // was closed by the server).
  Result<HttpAnswer> request(std::string_view method, std::string_view target,
                             std::string_view body = {},
                             std::string_view content_type = "application/json");

  // The error of a non-2xx answer: the server's {"error": {"code",
  // "message", "field"}} as a Status with the same code, or the status line.
  Status error_of(const HttpAnswer& answer) const;

 private:
  HttpClient() = default;
  struct Connection;
  std::string url_, host_, port_, prefix_, key_;
  std::unique_ptr<Connection> conn_;
};

// "--url" and "--key", or TIDAL_URL and TIDAL_KEY from the environment: the
// server to talk to, when one is named.
struct ServerTarget {
  std::string url;
  std::string key;
};

}  // namespace tidal::cli
