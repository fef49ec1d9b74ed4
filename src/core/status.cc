#include "tidal/status.h"

#include <cerrno>
#include <cstring>

namespace tidal {

namespace {
const std::string kEmpty;

// Renders a value for an error message: printable ASCII as is, anything else
// escaped, and long values shortened so a 10 MB string does not become a 10 MB
// error message.
std::string quote_value(std::string_view value) {
  constexpr size_t kMaxShown = 120;
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : value) {
    if (shown == kMaxShown) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    ++shown;
  }
  out += '"';
  if (value.size() > kMaxShown) out += " (" + std::to_string(value.size()) + " bytes)";
  return out;
}
}  // namespace

std::string_view subsystem_name(Subsystem s) {
  switch (s) {
    case Subsystem::kCore: return "core";
    case Subsystem::kSchema: return "schema";
    case Subsystem::kWal: return "wal";
    case Subsystem::kStorage: return "storage";
    case Subsystem::kQuery: return "query";
    case Subsystem::kIo: return "io";
    case Subsystem::kServer: return "server";
    case Subsystem::kIngest: return "ingest";
    case Subsystem::kEntities: return "entities";
  }
  return "unknown";
}

std::string_view status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "io error";
    case StatusCode::kNotSupported: return "not supported";
    case StatusCode::kResourceExhausted: return "resource exhausted";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kInternal: return "internal error";
    case StatusCode::kNoSpace: return "no space";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kOutcomeUnknown: return "outcome unknown";
  }
  return "unknown";
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

Status::Status(Subsystem subsystem, StatusCode code, std::string message, std::string field) {
  if (code == StatusCode::kOk) return;
  state_ = std::make_unique<State>(State{subsystem, code, std::move(message), std::move(field)});
}

Status Status::Invalid(Subsystem subsystem, std::string_view field, std::string_view value,
                       std::string_view rule) {
  std::string msg(field);
  msg += " = ";
  msg += quote_value(value);
  msg += ": ";
  msg += rule;
  return Status(subsystem, StatusCode::kInvalidArgument, std::move(msg), std::string(field));
}

Status Status::NotFound(Subsystem s, std::string m, std::string f) {
  return Status(s, StatusCode::kNotFound, std::move(m), std::move(f));
}
Status Status::AlreadyExists(Subsystem s, std::string m, std::string f) {
  return Status(s, StatusCode::kAlreadyExists, std::move(m), std::move(f));
}
Status Status::FailedPrecondition(Subsystem s, std::string m) {
  return Status(s, StatusCode::kFailedPrecondition, std::move(m));
}
Status Status::Corruption(Subsystem s, std::string m) {
  return Status(s, StatusCode::kCorruption, std::move(m));
}
Status Status::IoError(Subsystem s, std::string m) {
  return Status(s, StatusCode::kIoError, std::move(m));
}
Status Status::IoErrorFromErrno(Subsystem s, std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  const bool no_space = err == ENOSPC || err == EDQUOT;
  return Status(s, no_space ? StatusCode::kNoSpace : StatusCode::kIoError, std::move(m));
}
Status Status::NotSupported(Subsystem s, std::string m) {
  return Status(s, StatusCode::kNotSupported, std::move(m));
}
Status Status::ResourceExhausted(Subsystem s, std::string m, std::string f) {
  return Status(s, StatusCode::kResourceExhausted, std::move(m), std::move(f));
}
Status Status::Busy(Subsystem s, std::string m) {
  return Status(s, StatusCode::kBusy, std::move(m));
}
Status Status::Aborted(Subsystem s, std::string m) {
  return Status(s, StatusCode::kAborted, std::move(m));
}
Status Status::Internal(Subsystem s, std::string m) {
  return Status(s, StatusCode::kInternal, std::move(m));
}
Status Status::NoSpace(Subsystem s, std::string m) {
  return Status(s, StatusCode::kNoSpace, std::move(m));
}
Status Status::Unavailable(Subsystem s, std::string m) {
  return Status(s, StatusCode::kUnavailable, std::move(m));
}
Status Status::OutcomeUnknown(Subsystem s, std::string m) {
  return Status(s, StatusCode::kOutcomeUnknown, std::move(m));
}

const std::string& Status::message() const {
  return state_ ? state_->message : kEmpty;
}
const std::string& Status::field() const {
  return state_ ? state_->field : kEmpty;
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string out(subsystem_name(state_->subsystem));
  out += ": ";
  out += status_code_name(state_->code);
  out += ": ";
  out += state_->message;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return Status();
  std::string m(context);
  m += ": ";
  m += state_->message;
  return Status(state_->subsystem, state_->code, std::move(m), state_->field);
}

}  // namespace tidal
