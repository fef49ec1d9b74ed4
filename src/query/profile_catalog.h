// ProfileCatalog: the ranking profiles defined with CREATE PROFILE, kept as
// a materializer so that they are durable the way every other write is —
// the definition is a WAL record (kProfileDefinition) applied here, and
// checkpoints store the catalog in the `meta` keyspace.
// Layout: docs/formats/storage.md#profiles
//
// A profile is stored as the text of its expression and parsed again on
// restore and replay; it is compiled against the schema when a query uses
// it (its sort-mode and profile references are expanded then).
//
// apply() runs under the database's exclusive state lock, reads under the
// shared one.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "apply/materializer.h"
#include "query/expr.h"

namespace tidal::query {

struct StoredProfile {
  std::string text;  // the expression as TQL
  Expr expr;
};

class ProfileCatalog final : public apply::Materializer {
 public:
  std::string_view name() const override { return "profiles"; }
  apply::MaterializerScope scope() const override { return apply::MaterializerScope::kGlobal; }
  Status apply(const apply::AppliedRecord& record) override;
  Status checkpoint(WriteBatch* batch) override;
  void end_checkpoint(bool durable) override;
  Status restore(StorageEngine& engine) override;

  // nullptr when no profile has this name.
  const StoredProfile* find(std::string_view name) const;
  const std::map<std::string, StoredProfile, std::less<>>& all() const { return profiles_; }

  // The payload of a kProfileDefinition record.
  static std::string encode_record(std::string_view name, std::string_view text);

 private:
  Status put(std::string name, std::string text);

  std::map<std::string, StoredProfile, std::less<>> profiles_;
  std::set<std::string> dirty_;
  std::set<std::string> in_flight_;  // written by the checkpoint in progress
};

}  // namespace tidal::query
