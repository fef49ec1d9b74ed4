// QueryResult::explain_text (include/tidal/query.h).
#include <cstdio>
#include <string>

#include "tidal/query.h"

namespace tidal {

namespace {

std::string count_text(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string millis(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", micros / 1000.0);
  return buf;
}

}  // namespace

std::string QueryResult::explain_text() const {
  std::string out = "total " + millis(total_micros) + "\n";
  // The pipeline runs from the source up; print it as a tree, page first.
  std::string indent;
  const PlanStage* planning = nullptr;
  for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
    if (it->name == "plan") {
      planning = &*it;
      continue;
    }
    out += indent + it->name + ": " + it->detail + "  [in " + count_text(it->rows_in) + ", out " +
           count_text(it->rows_out) + ", " + millis(it->micros) + "]\n";
    indent += "  ";
  }
  if (planning != nullptr) {
    out += "plan: " + planning->detail + "  [" + millis(planning->micros) + "]\n";
  }
  return out;
}

}  // namespace tidal
