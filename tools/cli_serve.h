// Serving a database over HTTP until SIGTERM or SIGINT: shared by
// `tidal serve` and the end of `tidal demo`.
#pragma once

#include <csignal>
#include <functional>
#include <memory>
#include <string>

#include "server/auth.h"
#include "server/http_server.h"
#include "tidal/database.h"

namespace tidal::cli {

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it
// starts afterwards: serve_until_signal() then takes them with sigwait().
// Call first thing, before a Database (which starts threads) is opened.
void block_shutdown_signals();

struct ServeSettings {
  std::string data_dir;
  DatabaseOptions db_options;  // as the database was opened (a migration reopens it so)
  server::HttpServerOptions http;
  server::KeyStore keys;
};

// Serves `db` until SIGTERM or SIGINT, then stops accepting, lets requests in
// flight finish, checkpoints and closes the database. `ready` runs once the
// port is bound (to print what to try). Returns the exit status: 0 after a
// clean shutdown, 1 when the server could not start or the final checkpoint
// failed.
int serve_until_signal(std::unique_ptr<Database> db, ServeSettings settings,
                       const std::function<void(uint16_t port)>& ready);

}  // namespace tidal::cli
