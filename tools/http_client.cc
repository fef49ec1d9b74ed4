#include "http_client.h"

#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>

#include "server/wire.h"

namespace tidal::cli {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct HttpClient::Connection {
  boost::asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool open = false;
};

HttpClient::~HttpClient() {
  if (conn_ && conn_->open) {
    beast::error_code ec;
    conn_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(std::string_view url, std::string key) {
  auto bad = [&](std::string_view rule) {
    return Status::Invalid(Subsystem::kServer, "--url", url, rule);
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    if (url.substr(0, 8) == "https://") {
      return bad(
          "https is not spoken here: tidal serve speaks plain HTTP (put a TLS proxy in "
          "front of it and give the CLI the server's own http:// address)");
    }
    return bad("must be http://host[:port], e.g. http://127.0.0.1:8080");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  std::string_view host = authority, port = "80";
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed [ in its host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("expected :port after the [host]");
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("names no host");
  if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("has a port that is not a number");
  }
  std::unique_ptr<HttpClient> c(new HttpClient());
  c->url_ = std::string(url);
  c->host_ = std::string(host);
  c->port_ = std::string(port);
  c->prefix_ = std::string(prefix);
  c->key_ = std::move(key);
  c->conn_ = std::make_unique<Connection>();
  return c;
}

Result<HttpAnswer> HttpClient::request(std::string_view method, std::string_view target,
                                       std::string_view body, std::string_view content_type) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(beast::string_view(method.data(), method.size())));
  req.target(prefix_ + std::string(target));
  req.version(11);
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::user_agent, "tidal-cli");
  req.keep_alive(true);
  if (!key_.empty()) req.set(http::field::authorization, "Bearer " + key_);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.set(http::field::content_type, std::string(content_type));
    req.body() = std::string(body);
    req.prepare_payload();
  }
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = conn_->open;
    if (!conn_->open) {
      tcp::resolver resolver(conn_->io);
      auto endpoints = resolver.resolve(host_, port_, ec);
      if (!ec) conn_->stream.connect(endpoints, ec);
      if (ec) {
        return Status::IoError(Subsystem::kServer,
                               "cannot reach the server at " + url_ + ": " + ec.message());
      }
      conn_->open = true;
      conn_->buffer.clear();
    }
    http::write(conn_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (!ec) http::read(conn_->stream, conn_->buffer, parser, ec);
    if (ec) {
      conn_->stream.socket().close(ec);
      conn_->open = false;
      if (reused) continue;  // the server closed a kept-alive connection: try once more
      return Status::IoError(Subsystem::kServer,
                             "the server at " + url_ + " did not answer: " + ec.message());
    }
    http::response<http::string_body> res = parser.release();
    if (!res.keep_alive()) {
      conn_->stream.socket().close(ec);
      conn_->open = false;
    }
    return HttpAnswer{.status = static_cast<int>(res.result_int()), .body = std::move(res.body())};
  }
  return Status::IoError(Subsystem::kServer, "the server at " + url_ + " closed the connection");
}

Status HttpClient::error_of(const HttpAnswer& answer) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view code, message, field;
  if (parser.parse(answer.body).get(doc) == simdjson::SUCCESS &&
      doc["error"]["code"].get_string().get(code) == simdjson::SUCCESS &&
      doc["error"]["message"].get_string().get(message) == simdjson::SUCCESS) {
    if (doc["error"]["field"].get_string().get(field) != simdjson::SUCCESS) field = {};
    StatusCode sc = StatusCode::kInternal;
    for (int c = 0; c <= static_cast<int>(StatusCode::kOutcomeUnknown); ++c) {
      if (server::error_code_name(static_cast<StatusCode>(c)) == code) {
        sc = static_cast<StatusCode>(c);
      }
    }
    if (answer.status == 401 || answer.status == 403) {
      return Status(Subsystem::kServer, sc,
                    "the server at " + url_ + " refused the request: " + std::string(message),
                    std::string(field));
    }
    return Status(Subsystem::kServer, sc, std::string(message), std::string(field));
  }
  return Status::IoError(Subsystem::kServer, "the server at " + url_ + " answered HTTP " +
                                                 std::to_string(answer.status));
}

}  // namespace tidal::cli
