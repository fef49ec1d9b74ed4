#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/wire.h"

namespace tidal::server {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr std::string_view kServerName = "tidal/0.1.0";

}  // namespace

class Session;

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler handler, HttpClassifier may_block)
      : options_(options),
        handler_(std::move(handler)),
        may_block_(std::move(may_block)),
        loops_(make_loops(options.io_threads)),
        acceptor_(*loops_[0]),
        workers_(std::max<size_t>(1, options.threads)) {}

  Status listen();
  void run();
  void stop(std::chrono::milliseconds drain);

  void accept();
  void session_started(const std::shared_ptr<Session>& s);
  void session_ended(Session* s);

  static std::vector<std::unique_ptr<net::io_context>> make_loops(size_t n) {
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<net::io_context>> loops;
    for (size_t i = 0; i < n; ++i) loops.push_back(std::make_unique<net::io_context>(1));
    return loops;
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  const HttpClassifier may_block_;

  // Declared before the loops: handlers an io_context destroys at the end
  // hold sessions, whose destructors report here.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<Session*> sessions_;  // guarded by mu_
  std::vector<std::weak_ptr<Session>> weak_sessions_;

  std::vector<std::unique_ptr<net::io_context>> loops_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  size_t next_loop_ = 0;  // the accepting loop only
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_->session_ended(this); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  // Called on the session's strand when the server stops: an idle
  // connection closes now, a busy one after its response.
  void stop_if_idle() {
    if (!busy_) close();
  }

  auto executor() { return stream_.get_executor(); }

 private:
  void read() {
    if (server_->stopping_.load()) return close();
    busy_ = false;
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(server_->options_.max_body_bytes);
    stream_.expires_after(server_->options_.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    busy_ = true;
    head_ = false;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      return close();
    }
    if (ec) {
      // A request Beast could not parse: answer, then close.
      Status st =
          ec == http::error::body_limit
              ? Status::ResourceExhausted(Subsystem::kServer,
                                          "the request body is larger than the server's limit of " +
                                              std::to_string(server_->options_.max_body_bytes) +
                                              " bytes",
                                          "body")
          : ec == http::error::header_limit
              ? Status::ResourceExhausted(Subsystem::kServer,
                                          "the request's headers are larger than 64 KiB", "headers")
              : Status(Subsystem::kServer, StatusCode::kInvalidArgument,
                       "malformed HTTP request: " + ec.message(), "");
      respond_error(ec == http::error::body_limit || ec == http::error::header_limit ? 413 : 400,
                    st);
      return;
    }
    const auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string_view(req.method_string().data(), req.method_string().size());
    request.target = std::string_view(req.target().data(), req.target().size());
    request.body = req.body();
    head_ = req.method() == http::verb::head;
    auto header = [&](http::field f) {
      auto it = req.find(f);
      return it == req.end() ? std::string_view()
                             : std::string_view(it->value().data(), it->value().size());
    };
    request.content_type = header(http::field::content_type);
    request.authorization = header(http::field::authorization);
    if (auto it = req.find("X-API-Key"); it != req.end()) {
      request.api_key = std::string_view(it->value().data(), it->value().size());
    }
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    if (server_->may_block_ && server_->may_block_(request)) {
      // On a worker; the response comes back through this connection's loop.
      net::post(server_->workers_, [self = shared_from_this(), request, keep_alive, version] {
        auto response = std::make_shared<HttpResponse>(self->run_handler(request));
        net::post(self->stream_.get_executor(), [self, response, keep_alive, version] {
          self->send(response->status, std::move(response->content_type), std::move(response->body),
                     keep_alive && !self->server_->stopping_.load(), version);
        });
      });
      return;
    }
    HttpResponse response = run_handler(request);
    send(response.status, std::move(response.content_type), std::move(response.body),
         keep_alive && !server_->stopping_.load(), version);
  }

  HttpResponse run_handler(const HttpRequest& request) {
    HttpResponse response;
    try {
      server_->handler_(request, &response);
    } catch (const std::exception& e) {
      response.status = 500;
      response.body = error_body(Status::Internal(Subsystem::kServer, e.what()));
    }
    return response;
  }

  void respond_error(unsigned status, const Status& st) {
    send(status, "application/json", error_body(st), false, 11);
  }

  void send(unsigned status, std::string content_type, std::string body, bool keep_alive,
            unsigned version) {
    res_ = {};
    res_.result(status);
    res_.version(version);
    res_.set(http::field::server, beast::string_view(kServerName.data(), kServerName.size()));
    res_.set(http::field::content_type, content_type);
    res_.keep_alive(keep_alive);
    res_.body() = std::move(body);
    res_.prepare_payload();
    // A HEAD answer has the GET answer's headers and no body.
    if (head_) res_.body().clear();
    // The write gets its own deadline: a long request (a big bulk write)
    // must not find the one its read set already past.
    stream_.expires_after(server_->options_.idle_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  HttpServer::Impl* server_;
  bool busy_ = false;
  bool head_ = false;  // the request being answered is a HEAD
};

Status HttpServer::Impl::listen() {
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(options_.bind, ec);
  if (ec) {
    return Status::Invalid(Subsystem::kServer, "bind", options_.bind,
                           "is not an IPv4 or IPv6 address");
  }
  tcp::endpoint endpoint(address, options_.port);
  auto fail = [&](const char* what) {
    return Status::IoError(Subsystem::kServer, std::string("cannot ") + what + " " + options_.bind +
                                                   ":" + std::to_string(options_.port) + ": " +
                                                   ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Impl::accept() {
  net::io_context& loop = *loops_[next_loop_++ % loops_.size()];
  acceptor_.async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec && !stopping_.load()) {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), this);
      session_started(session);
      session->start();
    }
    if (!stopping_.load()) accept();
  });
}

void HttpServer::Impl::session_started(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lk(mu_);
  sessions_.insert(s.get());
  // Drop expired entries now and then so the list stays the size of the
  // open connections.
  if (weak_sessions_.size() > 2 * sessions_.size() + 64) {
    std::erase_if(weak_sessions_, [](const auto& w) { return w.expired(); });
  }
  weak_sessions_.push_back(s);
}

void HttpServer::Impl::session_ended(Session* s) {
  std::lock_guard<std::mutex> lk(mu_);
  sessions_.erase(s);
  cv_.notify_all();
}

void HttpServer::Impl::run() {
  for (auto& loop : loops_) guards_.push_back(net::make_work_guard(*loop));
  accept();
  for (auto& loop : loops_) {
    threads_.emplace_back([l = loop.get()] { l->run(); });
  }
}

void HttpServer::Impl::stop(std::chrono::milliseconds drain) {
  if (stopped_.exchange(true)) return;
  stopping_.store(true);
  // No new connections...
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  // ...idle ones close now, busy ones after their response.
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& w : weak_sessions_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    net::post(s->executor(), [s] { s->stop_if_idle(); });
  }
  live.clear();
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, drain, [this] { return sessions_.empty(); });
  }
  workers_.join();
  guards_.clear();
  for (auto& loop : loops_) loop->stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  stop();
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                      HttpHandler handler,
                                                      HttpClassifier may_block) {
  auto impl = std::make_unique<Impl>(options, std::move(handler), std::move(may_block));
  TIDAL_RETURN_IF_ERROR(impl->listen());
  impl->run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  return impl_->port_;
}

void HttpServer::stop(std::chrono::milliseconds drain) {
  impl_->stop(drain);
}

size_t HttpServer::connections() const {
  std::lock_guard<std::mutex> lk(impl_->mu_);
  return impl_->sessions_.size();
}

}  // namespace tidal::server
