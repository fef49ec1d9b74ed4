// Status and Result<T>: how every tidalDB operation reports failure.
//
// The data path does not throw. A function that can fail returns a Status (or a
// Result<T>, which holds either a T or a non-OK Status), and the caller checks
// it. A non-OK Status says which subsystem failed, what kind of failure it is,
// and — for bad input — which field was wrong, the value it had and the rule it
// broke, so that a message such as
//
//   schema: invalid argument: signals.view.half_life = "0s": must be between 1s and 3650d
//
// can be shown to the person who wrote the input without further context.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tidal {

// Which part of the system produced a Status.
enum class Subsystem : uint8_t {
  kCore,
  kSchema,
  kWal,
  kStorage,
  kQuery,
  kIo,
  kServer,
  kIngest,    // signal events on their way in
  kEntities,  // items, users, creators and their relationships
};

// What kind of failure a Status reports. Stable: the server maps these to
// HTTP status codes and clients may switch on them.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input broke a rule (a 4xx for a server)
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // the named thing exists and may not be created again
  kFailedPrecondition,  // the system is not in a state that allows this
  kCorruption,          // stored bytes are not what was written
  kIoError,             // the operating system refused or failed
  kNotSupported,        // valid, but this build or version cannot do it
  kResourceExhausted,   // a configured limit was reached
  kBusy,                // held by someone else (e.g. a locked data folder)
  kAborted,             // stopped on purpose (shutdown, time budget)
  kInternal,            // a bug in tidalDB: an invariant did not hold
  // Server-side conditions that are no fault of the request (5xx):
  kNoSpace,         // the disk is full: nothing was applied; retry once space is freed
  kUnavailable,     // cannot take writes now (a failed WAL, a closed database): not applied
  kOutcomeUnknown,  // the write may or may not be durable (a failed sync): retry it
                    // with the same idempotency key once the database is back
};

std::string_view subsystem_name(Subsystem s);
std::string_view status_code_name(StatusCode c);

class [[nodiscard]] Status {
 public:
  // An OK status. Cheap: holds no allocation.
  Status() noexcept = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status Ok() { return Status(); }

  // A failure with a free-form message.
  Status(Subsystem subsystem, StatusCode code, std::string message, std::string field = {});

  // Bad input: `field` had `value`, which broke `rule`. The message reads
  // `<field> = "<value>": <rule>`; field() returns `field`.
  static Status Invalid(Subsystem subsystem, std::string_view field, std::string_view value,
                        std::string_view rule);

  static Status NotFound(Subsystem s, std::string message, std::string field = {});
  static Status AlreadyExists(Subsystem s, std::string message, std::string field = {});
  static Status FailedPrecondition(Subsystem s, std::string message);
  static Status Corruption(Subsystem s, std::string message);
  static Status IoError(Subsystem s, std::string message);
  // An I/O failure with the operating system's errno explained (kNoSpace
  // for ENOSPC and EDQUOT).
  static Status IoErrorFromErrno(Subsystem s, std::string_view what, int err);
  static Status NotSupported(Subsystem s, std::string message);
  static Status ResourceExhausted(Subsystem s, std::string message, std::string field = {});
  static Status Busy(Subsystem s, std::string message);
  static Status Aborted(Subsystem s, std::string message);
  static Status Internal(Subsystem s, std::string message);
  static Status NoSpace(Subsystem s, std::string message);
  static Status Unavailable(Subsystem s, std::string message);
  static Status OutcomeUnknown(Subsystem s, std::string message);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  Subsystem subsystem() const { return state_ ? state_->subsystem : Subsystem::kCore; }
  // The message without the subsystem and code prefix; empty when OK.
  const std::string& message() const;
  // The input field the failure is about; empty when not about one field.
  const std::string& field() const;

  // "OK", or "<subsystem>: <code>: <message>".
  std::string to_string() const;

  // Returns a copy whose message is "<context>: <message>" (OK stays OK).
  Status with_context(std::string_view context) const;

 private:
  struct State {
    Subsystem subsystem;
    StatusCode code;
    std::string message;
    std::string field;
  };
  std::unique_ptr<State> state_;
};

// Either a value or a non-OK Status. Construct from a T for success, from a
// Status for failure (constructing from an OK Status is a bug and becomes an
// internal error, so a Result never claims success without a value).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                      // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? Status::Internal(Subsystem::kCore, "Result built from an OK Status")
                       : std::move(status)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition for value(): ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // OK when ok(), otherwise the failure.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tidal

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define TIDAL_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::tidal::Status tidal_status_ = (expr);        \
    if (!tidal_status_.ok()) return tidal_status_; \
  } while (0)

#define TIDAL_CONCAT_INNER_(a, b) a##b
#define TIDAL_CONCAT_(a, b) TIDAL_CONCAT_INNER_(a, b)

// `TIDAL_ASSIGN_OR_RETURN(auto x, expr)` evaluates `expr` (a Result<T>) and
// either binds its value to `x` or returns its Status from the enclosing function.
#define TIDAL_ASSIGN_OR_RETURN(decl, expr)                  \
  auto TIDAL_CONCAT_(tidal_result_, __LINE__) = (expr);     \
  if (!TIDAL_CONCAT_(tidal_result_, __LINE__).ok())         \
    return TIDAL_CONCAT_(tidal_result_, __LINE__).status(); \
  decl = std::move(TIDAL_CONCAT_(tidal_result_, __LINE__)).value()
