// `tidal serve` and `tidal key`.
#include "cli_serve.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "cli_commands.h"
#include "cli_folder.h"
#include "cli_usage.h"
#include "server/api.h"

namespace tidal::cli {

namespace {

bool is_loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address.rfind("127.", 0) == 0;
}

bool parse_size(const std::string& text, uint64_t* out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return false;
  std::string unit(end);
  uint64_t mult = 1;
  if (unit == "" || unit == "B") {
    mult = 1;
  } else if (unit == "KiB" || unit == "K" || unit == "k") {
    mult = 1ull << 10;
  } else if (unit == "MiB" || unit == "M") {
    mult = 1ull << 20;
  } else if (unit == "GiB" || unit == "G") {
    mult = 1ull << 30;
  } else {
    return false;
  }
  *out = v * mult;
  return v > 0 && *out / mult == v;
}

}  // namespace

void block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int serve_until_signal(std::unique_ptr<Database> db, ServeSettings settings,
                       const std::function<void(uint16_t port)>& ready) {
  server::ApiOptions api_options;
  api_options.open_access = settings.keys.empty();
  server::Api api(std::move(db), api_options, std::move(settings.keys));
  Result<std::unique_ptr<server::HttpServer>> http = server::start_http(api, settings.http);
  if (!http.ok()) {
    std::fprintf(stderr, "tidal: %s\n", http.status().to_string().c_str());
    Status closed = api.close();
    if (!closed.ok()) std::fprintf(stderr, "tidal: %s\n", closed.to_string().c_str());
    return 1;
  }
  ready((*http)->port());
  std::fflush(stdout);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("\ntidal serve: %s received; finishing requests in flight\n",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  (*http)->stop(std::chrono::seconds(30));
  Status closed = api.close();
  if (!closed.ok()) {
    std::fprintf(stderr, "tidal: closing the database: %s\n", closed.to_string().c_str());
    return 1;
  }
  std::printf("tidal serve: checkpointed and closed; bye\n");
  std::fflush(stdout);
  return 0;
}

int run_serve(const Args& args) {
  static const char* kUsage =
      "usage: tidal serve --data DIR [options]\n"
      "\n"
      "Serves the database in DIR over HTTP/1.1 + JSON (docs/http-api.md) until\n"
      "SIGTERM or SIGINT; then it stops accepting connections, finishes the requests\n"
      "in flight, checkpoints and exits 0. A new DIR gets the schema of --schema\n"
      "FILE, or the default schema.\n"
      "\n"
      "  --data DIR         the data folder (created when missing)\n"
      "  --schema FILE      a new folder's schema, as GET /v1/schema prints it\n"
      "                     (docs/schema.md); an existing folder's must match it\n"
      "  --bind ADDRESS     the address to listen on (default 127.0.0.1)\n"
      "  --port N           the port (default 8080; 0 picks a free one)\n"
      "  --io-threads N     event-loop threads (default: one per core)\n"
      "  --threads N        worker threads for writes, which wait for the disk (default 8)\n"
      "  --keys FILE        API keys file: lines `<scope> blake3:<hash>` (see `tidal key`)\n"
      "  --max-body SIZE    largest request body, e.g. 64MiB (the default)\n"
      "  --durability MODE  fsync (default), batch or none (docs/operations.md)\n"
      "  --historical       make the database historical (its present the newest event\n"
      "                     time; events of any time accepted) before serving it. A\n"
      "                     historical database stays so without the flag; `tidal\n"
      "                     present --data DIR live` switches back (docs/time.md)\n"
      "\n"
      "API keys also come from TIDAL_API_KEYS=\"admin:KEY,search:KEY\". Without any\n"
      "key the server answers every request with admin rights, so it then listens\n"
      "on loopback only.\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(
          args, {"--data", "--bind", "--port", "--io-threads", "--threads", "--keys", "--max-body",
                 "--durability", "--historical", "--schema", "--help", "-h"})) {
    return 2;
  }
  std::optional<std::string> dir = data_dir(args);
  if (!dir) return 2;
  bool bad = false;
  ServeSettings settings;
  settings.data_dir = *dir;
  settings.http.bind = flag_value(args, "--bind", &bad).value_or("127.0.0.1");
  std::string port = flag_value(args, "--port", &bad).value_or("8080");
  std::string threads = flag_value(args, "--threads", &bad).value_or("8");
  std::string io_threads = flag_value(args, "--io-threads", &bad).value_or("0");
  std::string keys_file = flag_value(args, "--keys", &bad).value_or("");
  std::string max_body = flag_value(args, "--max-body", &bad).value_or("64MiB");
  std::string durability = flag_value(args, "--durability", &bad).value_or("fsync");
  if (bad) return 2;
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (*end != '\0' || p < 0 || p > 65535) {
    std::fprintf(stderr, "tidal: --port must be between 0 and 65535, not \"%s\"\n", port.c_str());
    return 2;
  }
  settings.http.port = static_cast<uint16_t>(p);
  long t = std::strtol(threads.c_str(), &end, 10);
  if (*end != '\0' || t < 1 || t > 1024) {
    std::fprintf(stderr, "tidal: --threads must be between 1 and 1024, not \"%s\"\n",
                 threads.c_str());
    return 2;
  }
  settings.http.threads = static_cast<size_t>(t);
  long io = std::strtol(io_threads.c_str(), &end, 10);
  if (*end != '\0' || io < 0 || io > 1024) {
    std::fprintf(stderr, "tidal: --io-threads must be between 0 and 1024, not \"%s\"\n",
                 io_threads.c_str());
    return 2;
  }
  settings.http.io_threads = static_cast<size_t>(io);
  if (!parse_size(max_body, &settings.http.max_body_bytes)) {
    std::fprintf(stderr, "tidal: --max-body must be a size such as 64MiB or 1048576, not \"%s\"\n",
                 max_body.c_str());
    return 2;
  }
  if (durability == "fsync") {
    settings.db_options.durability = Durability::kFsync;
  } else if (durability == "batch") {
    settings.db_options.durability = Durability::kBatch;
  } else if (durability == "none") {
    settings.db_options.durability = Durability::kNone;
  } else {
    std::fprintf(stderr, "tidal: --durability must be fsync, batch or none, not \"%s\"\n",
                 durability.c_str());
    return 2;
  }
  const char* env = std::getenv("TIDAL_API_KEYS");
  Result<server::KeyStore> keys = server::KeyStore::load(keys_file, env ? env : "");
  if (!keys.ok()) {
    std::fprintf(stderr, "tidal: %s\n", keys.status().to_string().c_str());
    return 2;
  }
  settings.keys = std::move(keys).value();
  if (settings.keys.empty() && !is_loopback(settings.http.bind)) {
    std::fprintf(stderr,
                 "tidal: refusing to listen on %s without API keys: every request would have "
                 "admin rights. Create keys with `tidal key` and pass --keys FILE (or set "
                 "TIDAL_API_KEYS), or bind 127.0.0.1.\n",
                 settings.http.bind.c_str());
    return 2;
  }

  std::optional<SchemaFile> schema_file = schema_flag(args, &bad);
  if (bad) return 2;
  settings.db_options.historical_import = args.has("--historical");
  block_shutdown_signals();
  std::unique_ptr<Database> db = open_database(*dir, settings.db_options, /*create=*/true,
                                               schema_file ? &*schema_file : nullptr);
  if (db == nullptr) return 1;
  // --historical switched the stored present; a reopen (a migration) must not
  // switch it again after POST /v1/present made the database live.
  settings.db_options.historical_import = false;
  std::string present = describe_present(db->present());
  bool open_access = settings.keys.empty();
  size_t key_count = settings.keys.size();
  std::string bind = settings.http.bind;
  size_t nthreads = settings.http.threads;
  size_t nloops = settings.http.io_threads == 0 ? std::max(1u, std::thread::hardware_concurrency())
                                                : settings.http.io_threads;
  return serve_until_signal(std::move(db), std::move(settings), [&](uint16_t bound) {
    std::string host = bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
    std::printf(
        "tidal serve: listening on http://%s:%u (data folder %s, %zu event loops, %zu write "
        "workers)\n",
        host.c_str(), bound, std::filesystem::absolute(*dir).c_str(), nloops, nthreads);
    std::printf("tidal serve: present: %s\n", present.c_str());
    if (open_access) {
      std::printf(
          "tidal serve: no API keys configured: listening on loopback only, and every "
          "request has admin rights\n");
    } else {
      std::printf("tidal serve: %zu API key(s) configured; requests need one\n", key_count);
    }
  });
}

int run_key(const Args& args) {
  static const char* kUsage =
      "usage: tidal key --scope search|write|admin [--file FILE]\n"
      "\n"
      "Makes a new random API key, prints it once, and prints the line a keys file\n"
      "needs for it (`<scope> blake3:<hash>`; the server stores only the hash). With\n"
      "--file the line is appended to FILE (created with mode 0600).\n"
      "\n"
      "Scopes: search (reads and queries), write (search + ingest and entity writes),\n"
      "admin (write + schema migrations, profiles, checkpoints).\n";
  if (help_requested(args, kUsage)) return 0;
  if (has_unknown_flag(args, {"--scope", "--file", "--help", "-h"})) return 2;
  bool bad = false;
  std::optional<std::string> scope_text = flag_value(args, "--scope", &bad);
  std::optional<std::string> file = flag_value(args, "--file", &bad);
  if (bad) return 2;
  if (!scope_text) {
    std::fprintf(stderr, "tidal: --scope is required (search, write or admin)\n");
    return 2;
  }
  Result<server::Scope> scope = server::parse_scope(*scope_text, "--scope");
  if (!scope.ok()) {
    std::fprintf(stderr, "tidal: %s\n", scope.status().message().c_str());
    return 2;
  }
  Result<std::string> key = server::KeyStore::generate();
  if (!key.ok()) {
    std::fprintf(stderr, "tidal: %s\n", key.status().to_string().c_str());
    return 1;
  }
  std::string line = server::KeyStore::file_line(*scope, *key);
  if (file) {
    int fd = ::open(file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    std::string text = line + "\n";
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      std::fprintf(stderr, "tidal: cannot append to %s: %s\n", file->c_str(), std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return 1;
    }
    ::close(fd);
  }
  std::printf("key:  %s\nline: %s\n", key->c_str(), line.c_str());
  if (file) std::printf("(appended to %s)\n", file->c_str());
  return 0;
}

}  // namespace tidal::cli
