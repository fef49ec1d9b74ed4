#include "schema/error_list.h"

#include <string>

namespace tidal {

std::string field_path(std::string_view path, std::string_view name) {
  std::string out(path);
  out += '.';
  out += name;
  return out;
}

void ErrorList::add(std::string_view field, std::string_view value, std::string_view rule) {
  errors_.push_back(Status::Invalid(Subsystem::kSchema, field, value, rule));
}

void ErrorList::add(Status status) {
  if (!status.ok()) errors_.push_back(std::move(status));
}

Status ErrorList::to_status() const {
  if (errors_.empty()) return Status::Ok();
  if (errors_.size() == 1) return errors_.front();
  std::string message;
  for (size_t i = 0; i < errors_.size() && i < kMaxShown; ++i) {
    if (i > 0) message += '\n';
    message += errors_[i].message();
  }
  if (errors_.size() > kMaxShown) {
    message += "\n(and " + std::to_string(errors_.size() - kMaxShown) + " more errors)";
  }
  return Status(Subsystem::kSchema, StatusCode::kInvalidArgument, std::move(message),
                errors_.front().field());
}

}  // namespace tidal
