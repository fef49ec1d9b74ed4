#include "server/auth.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "core/hash.h"

namespace tidal::server {

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::kSearch: return "search";
    case Scope::kWrite: return "write";
    case Scope::kAdmin: return "admin";
  }
  return "unknown";
}

Result<Scope> parse_scope(std::string_view text, std::string_view field) {
  if (text == "search") return Scope::kSearch;
  if (text == "write") return Scope::kWrite;
  if (text == "admin") return Scope::kAdmin;
  return Status::Invalid(Subsystem::kServer, field, text, "must be search, write or admin");
}

std::string KeyStore::hash(std::string_view key) {
  Hash256 h = blake3_256(key);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "blake3:";
  for (uint8_t b : h) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string KeyStore::file_line(Scope scope, std::string_view key) {
  return std::string(scope_name(scope)) + " " + hash(key);
}

Result<std::string> KeyStore::generate() {
  unsigned char bytes[32];
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoErrorFromErrno(Subsystem::kServer, "open /dev/urandom", errno);
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::read(fd, bytes + got, sizeof bytes - got);
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return Status::IoErrorFromErrno(Subsystem::kServer, "read /dev/urandom", err);
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string key = "tdl_";
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      key += kB64[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) key += kB64[(acc << (6 - bits)) & 63];
  return key;
}

void KeyStore::add_key(Scope scope, std::string_view key) {
  scopes_[hash(key)] = scope;
}

Status KeyStore::add_hash(Scope scope, std::string_view text, std::string_view field) {
  bool ok = text.size() == 7 + 64 && text.substr(0, 7) == "blake3:";
  for (size_t i = 7; ok && i < text.size(); ++i) {
    char c = text[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok) {
    return Status::Invalid(Subsystem::kServer, field, text,
                           "expected blake3: followed by 64 lowercase hex digits (the line "
                           "`tidal key` prints)");
  }
  scopes_[std::string(text)] = scope;
  return Status::Ok();
}

std::optional<Scope> KeyStore::authenticate(std::string_view key) const {
  if (key.empty() || scopes_.empty()) return std::nullopt;
  auto it = scopes_.find(hash(key));
  if (it == scopes_.end()) return std::nullopt;
  return it->second;
}

Result<KeyStore> KeyStore::load(const std::string& file, std::string_view env_value) {
  KeyStore ks;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      return Status::IoErrorFromErrno(Subsystem::kServer, "open the keys file " + file, errno);
    }
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (size_t hash_pos = line.find('#'); hash_pos != std::string::npos) line.resize(hash_pos);
      size_t a = line.find_first_not_of(" \t\r");
      if (a == std::string::npos) continue;
      size_t b = line.find_first_of(" \t", a);
      size_t c = b == std::string::npos ? b : line.find_first_not_of(" \t", b);
      size_t d = c == std::string::npos ? c : line.find_first_of(" \t\r", c);
      std::string field = file + ":" + std::to_string(n);
      if (c == std::string::npos) {
        return Status::Invalid(Subsystem::kServer, field, line,
                               "expected `<scope> blake3:<hash>` (the line `tidal key` prints)");
      }
      TIDAL_ASSIGN_OR_RETURN(Scope scope, parse_scope(line.substr(a, b - a), field));
      std::string hash_text = line.substr(c, d == std::string::npos ? d : d - c);
      TIDAL_RETURN_IF_ERROR(ks.add_hash(scope, hash_text, field));
    }
  }
  size_t pos = 0;
  while (pos < env_value.size()) {
    size_t end = env_value.find(',', pos);
    if (end == std::string_view::npos) end = env_value.size();
    std::string_view entry = env_value.substr(pos, end - pos);
    pos = end + 1;
    if (entry.empty()) continue;
    size_t colon = entry.find(':');
    if (colon == std::string_view::npos || colon + 1 == entry.size()) {
      return Status::Invalid(
          Subsystem::kServer, "TIDAL_API_KEYS", "(an entry without a key)",
          "expected comma-separated scope:key pairs, e.g. admin:KEY1,search:KEY2");
    }
    TIDAL_ASSIGN_OR_RETURN(Scope scope, parse_scope(entry.substr(0, colon), "TIDAL_API_KEYS"));
    ks.add_key(scope, entry.substr(colon + 1));
  }
  return ks;
}

}  // namespace tidal::server
