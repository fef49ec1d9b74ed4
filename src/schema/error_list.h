// Collects the rules a schema breaks so that build() can report all of them
// at once instead of making the user fix one error per attempt.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tidal/status.h"

namespace tidal {

// "<path>.<name>": how a declaration's field is named in an error, e.g.
// field_path("signals.view", "half_life").
std::string field_path(std::string_view path, std::string_view name);

class ErrorList {
 public:
  // Shown in full; past this many only a count of the rest is given.
  static constexpr size_t kMaxShown = 32;

  // Records `field` = `value` breaking `rule` (see Status::Invalid).
  void add(std::string_view field, std::string_view value, std::string_view rule);
  void add(Status status);

  bool empty() const { return errors_.empty(); }

  // OK when empty. One error: that error. Several: an InvalidArgument whose
  // message has one line per error and whose field() is the first error's.
  Status to_status() const;

 private:
  std::vector<Status> errors_;
};

}  // namespace tidal
