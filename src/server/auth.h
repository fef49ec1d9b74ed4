// API keys and their scopes.
//
// A key has one scope; each scope includes the ones below it:
//   search  reads: GET of entities, signals and relationships, queries, /metrics
//   write   search, plus ingesting events and writing entities and relationships
//   admin   write, plus schema migrations, profiles and checkpoints
//
// Keys are random strings (`tidal key` makes one: "tdl_" + 43 base64url
// characters, 256 bits). The server keeps only their BLAKE3 hashes: a keys
// file holds lines `<scope> blake3:<64 hex digits>` (blank lines and `#`
// comments allowed), and keys given in the TIDAL_API_KEYS environment
// variable ("admin:KEY,search:KEY") are hashed when read and the text is not
// kept. A presented key is hashed and looked up; the hashes of
// high-entropy keys need no salt (they cannot be guessed from a hash).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tidal/status.h"

namespace tidal::server {

enum class Scope : uint8_t { kSearch = 0, kWrite = 1, kAdmin = 2 };

std::string_view scope_name(Scope s);
Result<Scope> parse_scope(std::string_view text, std::string_view field);

class KeyStore {
 public:
  // Reads a keys file (may be empty: no file) and the TIDAL_API_KEYS value
  // (may be empty). Errors name the file and line, or the variable.
  static Result<KeyStore> load(const std::string& file, std::string_view env_value);

  // A new random key (from /dev/urandom).
  static Result<std::string> generate();
  // "blake3:<64 hex digits>"
  static std::string hash(std::string_view key);
  // The keys-file line for `key` with `scope`.
  static std::string file_line(Scope scope, std::string_view key);

  void add_key(Scope scope, std::string_view key);
  Status add_hash(Scope scope, std::string_view hash_text, std::string_view field);

  bool empty() const { return scopes_.empty(); }
  size_t size() const { return scopes_.size(); }
  // The scope of a presented key, or nullopt when it is not known.
  std::optional<Scope> authenticate(std::string_view key) const;

 private:
  std::unordered_map<std::string, Scope> scopes_;  // hash text -> scope
};

}  // namespace tidal::server
