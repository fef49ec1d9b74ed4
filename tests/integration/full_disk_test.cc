// `tidal serve` on a full disk, as an operator meets it: a 24 MiB tmpfs as
// the data folder, items with 4 KB titles PUT until writes fail. Writes then
// fail with 507 no_space, reads keep working, POST /v1/checkpoint fails with
// 507 and says why, /health answers 503 "degraded", and once space is freed
// the same server writes, checkpoints and reports "ok" again — no restart.
// Then SIGTERM on a full disk exits 1 with the reason (not an abort),
// `tidal check` works on the full disk, a restart there fails cleanly, and a
// restart after freeing space has every acknowledged item. Needs root (to
// mount the tmpfs); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "server_process.h"

namespace tidal::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!disk_.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
    data_ = disk_.sub("data");
  }
  // Writes `mib` MiB to `path`, or as much as fits.
  void fill(const std::string& path, int mib) {
    std::ofstream f(path, std::ios::binary);
    std::string kb(1 << 10, 'f');
    for (int i = 0; i < mib * 1024 && f; ++i) f << kb;
  }
  static std::string item_body(int i) {
    return R"({"attributes": {"title": ")" + std::string(4096, static_cast<char>('a' + i % 26)) +
           R"(", "category": "c)" + std::to_string(i % 7) + R"("}})";
  }

  TmpfsMount disk_{"24m"};
  std::string data_;
};

TEST_F(FullDisk, TheServerRefusesWritesKeepsReadingAndRecoversWithoutARestart) {
  ServerProcess server;
  ASSERT_TRUE(server.start({"serve", "--data", data_, "--port", "0"})) << server.output();
  fill(disk_.sub("filler"), 4);  // room to give back later
  const uint16_t port = server.port();

  int acknowledged = 0;
  HttpReply refused;
  for (int i = 0; i < 20000; ++i) {
    HttpReply r = http(port, "PUT", "/v1/items/item_" + std::to_string(i), item_body(i));
    if (r.status != 200) {
      refused = r;
      break;
    }
    ++acknowledged;
  }
  ASSERT_GT(acknowledged, 100);
  ASSERT_EQ(refused.status, 507) << refused.body;
  EXPECT_NE(refused.body.find("\"no_space\""), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("No space left on device"), std::string::npos) << refused.body;
  fill(disk_.sub("brim"), 64);  // whatever room a smaller write could still use

  // Reads work.
  EXPECT_EQ(http(port, "GET", "/v1/items/item_0").status, 200);
  HttpReply q = http(port, "POST", "/v1/query", R"({"tql": "RANK items BY new LIMIT 3"})");
  EXPECT_EQ(q.status, 200) << q.body;
  // A batch of events fails as the server's fault, not the client's. (Large
  // enough not to fit in the last page of the WAL's file, which a small
  // write still can.)
  std::string events = R"({"events": [)";
  for (int i = 0; i < 400; ++i) {
    events += std::string(i ? "," : "") + R"({"item": "item_1", "signal": "like", "user": "u)" +
              std::to_string(i) + R"("})";
  }
  HttpReply batch = http(port, "POST", "/v1/events/batch", events + "]}");
  EXPECT_EQ(batch.status, 507) << batch.body;
  // The checkpoint fails and says why; health says degraded.
  HttpReply cp = http(port, "POST", "/v1/checkpoint");
  EXPECT_EQ(cp.status, 507) << cp.body;
  EXPECT_NE(cp.body.find("still in the WAL"), std::string::npos) << cp.body;
  HttpReply health = http(port, "GET", "/health");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.body.find("\"degraded\""), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("\"no_space\""), std::string::npos) << health.body;

  // Space is freed: the server finds out by itself (its probe), then writes
  // and checkpoints again.
  fs::remove(disk_.sub("filler"));
  fs::remove(disk_.sub("brim"));
  bool healthy = false;
  for (int i = 0; i < 100 && !healthy; ++i) {
    healthy = http(port, "GET", "/health").status == 200;
    if (!healthy) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(healthy) << http(port, "GET", "/health").body;
  HttpReply put = http(port, "PUT", "/v1/items/after", item_body(1));
  EXPECT_EQ(put.status, 200) << put.body;
  cp = http(port, "POST", "/v1/checkpoint");
  EXPECT_EQ(cp.status, 200) << cp.body;

  // Fill the disk again, then stop: the shutdown cannot checkpoint, says so
  // and exits 1 — no abort.
  for (int i = 20000; i < 40000; ++i) {
    if (http(port, "PUT", "/v1/items/item_" + std::to_string(i), item_body(i)).status != 200) break;
    ++acknowledged;
  }
  fill(disk_.sub("filler2"), 64);  // whatever room is left
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(60s), 1) << server.output();
  EXPECT_NE(server.output().find("still in the WAL"), std::string::npos) << server.output();

  // `tidal check` reads a full disk; a restart there fails cleanly.
  CliRun check = run_tidal({"check", "--data", data_});
  EXPECT_EQ(check.status, 0) << check.output;
  ServerProcess full;
  EXPECT_FALSE(full.start({"serve", "--data", data_, "--port", "0"}, {}, 30s));
  int status = full.wait(30s);
  if (status != 0) {  // it may also have started read-mostly and been killed by wait()
    EXPECT_EQ(status, 1) << full.output();
    EXPECT_NE(full.output().find("No space left on device"), std::string::npos) << full.output();
  }

  // Space again (the operator grows the volume): the restart has every
  // acknowledged item.
  ASSERT_TRUE(disk_.resize("64m"));
  ServerProcess again;
  ASSERT_TRUE(again.start({"serve", "--data", data_, "--port", "0"})) << again.output();
  HttpReply count =
      http(again.port(), "POST", "/v1/query", R"({"tql": "RANK items BY new LIMIT 10000"})");
  ASSERT_EQ(count.status, 200);
  size_t rows = 0;
  for (size_t at = count.body.find("\"key\""); at != std::string::npos;
       at = count.body.find("\"key\"", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, static_cast<size_t>(acknowledged) + 1);  // + "after"
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait(60s), 0) << again.output();
}

}  // namespace
}  // namespace tidal::testing
