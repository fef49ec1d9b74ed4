// Ranking profiles: an expression (expr::Expr) compiled once into a Program,
// then evaluated for batches of candidates without allocating.
//
// compile() resolves every name against the schema (signals, their windows,
// item attributes), checks arities and argument kinds, folds constants, and
// emits a register bytecode whose every instruction runs as one loop over a
// batch of candidates. The Program lists the features it reads
// (features()); the executor fetches each as a column of doubles, one per
// candidate, in that order, and hands the columns to an Evaluator.
//
// The language — every function's exact formula, truthiness, division by
// zero, missing values and limits — is documented in docs/profiles.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "ranking/program_ops.h"
#include "tidal/schema.h"
#include "tidal/status.h"

namespace tidal::ranking {

// Limits checked by compile().
inline constexpr size_t kMaxExprDepth = 64;
inline constexpr size_t kMaxInstructions = 4096;
inline constexpr size_t kMaxFeatures = 256;
// Candidates per chunk of an Evaluator: registers hold this many doubles.
inline constexpr size_t kEvalBatch = 1024;

enum class FeatureKind : uint8_t {
  kDecay,       // the decayed score of `signal` now
  kCount,       // events of a count signal in window `window`
  kSum,         // the summed values of a sum signal in window `window`
  kVelocity,    // count − prev_count (velocity signals)
  kPrevCount,   // events in the window before `window` (velocity signals)
  kAttribute,   // the item attribute with id `attribute`, as a number (0 when missing)
  kCreatedAt,   // the item's created_at, in seconds since the Unix epoch
  kGaussian,    // a standard normal draw fixed by (seed, item): gaussian_draw()
  kBm25,        // the BM25 relevance of a SEARCH query's text (0 for an item it did not match)
  kSimilarity,  // similarity(slot): to the query vector of SIMILAR / NEAREST (0 without a vector)
  kHybrid,      // reciprocal-rank fusion of the text and vector lists (NEAREST/SIMILAR ... QUERY)
  // The query's user (FEED FOR USER; docs/feeds.md), items only:
  kCoEngagement,  // the user's co-engagement score of the item (users/user_state.h)
  kPreference,    // similarity(slot) of the item to the user's preference vector for `attribute`
  kAffinity,      // the user's affinity to the item's creator now
  kFollowed,      // 1 when the user follows the item's creator, else 0
  kSeen,          // 1 when the user has any signal for the item, else 0
  kServed,        // how often feeds served the item to the user since they last engaged with it
};

// Whether a feature reads the query's user.
inline bool is_user_feature(FeatureKind k) {
  return k >= FeatureKind::kCoEngagement;
}

std::string_view feature_kind_name(FeatureKind k);

// Whose signal state a signal feature reads (its `scope`): the query's
// audience — the cohort of FOR COHORT, else everyone — unless the call names
// one with a trailing `cohort = <name>` argument (docs/profiles.md, "Cohort
// features"): kEveryone for `cohort = all`, else the cohort's name.
inline constexpr std::string_view kEveryone = "*";
// The argument name of a scoped signal feature, and the cohort name meaning
// every user.
inline constexpr std::string_view kScopeArgument = "cohort";
inline constexpr std::string_view kEveryoneName = "all";

// Whether `a` is a scope argument (`cohort = <name>`), and the scope it names
// (FeatureRef::scope: kEveryone for all). scope_of's precondition:
// is_scope_argument(a) and the value is a name or a string.
bool is_scope_argument(const expr::Expr& a);
std::string scope_of(const expr::Expr& a);
// The cohorts `e`'s scope arguments name (not kEveryone), sorted, unique.
std::vector<std::string> scoped_cohorts(const expr::Expr& e);

// One column the executor must fetch. Fields a kind does not use are 0.
struct FeatureRef {
  FeatureKind kind = FeatureKind::kDecay;
  uint16_t signal = 0;     // signal type id (decay, count, sum, velocity, prev_count)
  uint8_t window = 0;      // index into the signal type's windows (count .. prev_count)
  uint16_t attribute = 0;  // attribute id (kAttribute; kSimilarity: the vector attribute)
  uint64_t seed = 0;       // kGaussian
  std::string scope{};     // signal features: "" the query's audience, kEveryone, or a cohort
  bool operator==(const FeatureRef&) const = default;
};

// The value of gaussian(seed) for the item with dense index `item`: a
// standard normal variate — the normal quantile (AS 241) of a uniform from a
// SplitMix64 hash of seed and item — the same every time for the same pair.
double gaussian_draw(uint64_t seed, uint32_t item);

// What names resolve against. `schema` must outlive the compile() call.
struct CompileContext {
  const Schema* schema = nullptr;
  // Whose attributes names resolve to. Signals, age, created_at and
  // freshness exist for items only.
  EntityKind kind = EntityKind::kItem;
};

// The inputs of one evaluation: columns[i] holds the values of
// Program::features()[i] for candidates 0..n-1.
struct FeatureColumns {
  std::span<const double* const> columns{};
};

// A compiled profile. Immutable; share it between threads (each thread uses
// its own Evaluator).
class Program {
 public:
  // The distinct features the program reads, in column order.
  const std::vector<FeatureRef>& features() const { return features_; }
  // The instructions executed per chunk (at least 1: a constant or a bare
  // feature is one copy).
  size_t instruction_count() const { return code_.size(); }
  // True when the whole expression folded to a constant, constant_value().
  bool is_constant() const { return constant_; }
  // True when the program is exactly its one feature (a copy of it): the
  // score is that feature's value, unscaled.
  bool is_bare_feature() const {
    return !constant_ && features_.size() == 1 && code_.size() == 1 && code_[0].op == Op::kCopy;
  }
  double constant_value() const { return constant_value_; }
  // One instruction per line, e.g. "t0 = log1p f0"; for tests and EXPLAIN.
  std::string disassemble() const;

 private:
  friend class ProgramBuilder;
  friend class Evaluator;

  std::vector<FeatureRef> features_;
  std::vector<double> constants_;
  std::vector<Instruction> code_;
  // Slots: [0, F) features, [F, F+C) constants, [F+C, F+C+T) temporaries,
  // F+C+T the output.
  uint32_t temp_count_ = 0;
  bool constant_ = false;
  double constant_value_ = 0;
};

// Compiles `e` against ctx.schema. Errors are InvalidArgument statuses whose
// field is "profile@<line>:<column>" of the offending node and whose rule
// says what is wrong (unknown function/signal/attribute/window, arity,
// argument kind, depth or size limit).
Result<Program> compile(const expr::Expr& e, const CompileContext& ctx);

// Runs a Program over batches of candidates. Owns the registers (sized for
// kEvalBatch candidates), so evaluate() never allocates. One per thread;
// `program` must outlive it.
class Evaluator {
 public:
  explicit Evaluator(const Program& program);
  // Not copyable: the slot table points into this Evaluator's own registers.
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  Evaluator(Evaluator&&) = default;

  // out[i] = the profile's score for candidate i, 0 <= i < n, where the
  // features come from `cols` (one column per program.features(), each with
  // n values) and `now_seconds` is the time (seconds since the Unix epoch)
  // that age and freshness measure against. Any n; chunks of kEvalBatch.
  void evaluate(const FeatureColumns& cols, size_t n, double now_seconds, double* out);

  // One candidate: features[i] is the value of program.features()[i].
  double evaluate_one(std::span<const double> features, double now_seconds);

 private:
  void run_chunk(size_t m, double now_seconds);

  const Program& program_;
  std::vector<double> scratch_;             // constants then temporaries, kEvalBatch each
  std::vector<const double*> slots_;        // per slot: where its values for this chunk are
  std::vector<const double*> one_columns_;  // evaluate_one's column pointers
};

}  // namespace tidal::ranking
