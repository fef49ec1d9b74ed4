// The TQL statement tree. The parser (query/parser.h) builds it from text,
// query/json.h from the JSON form, and query/printer.h turns it back into
// text; both forms describe the same Statement. Expressions — WHERE
// predicates, RANK BY sort keys, profile bodies — are Expr (expr/expr.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/expr.h"
#include "tidal/status.h"
#include "tidal/types.h"

namespace tidal::query {

enum class StatementKind : uint8_t {
  kTrending,       // TRENDING items [FOR COHORT c] [BY signal] WINDOW d ...
  kRank,           // RANK items [FOR COHORT c] BY <sort> [ASC|DESC] ...
  kSearch,         // SEARCH items QUERY "text" [WITHIN TRENDING [FOR COHORT c] [WINDOW d]] ...
  kSimilar,        // SIMILAR items TO 'key' USING slot [QUERY "text"] [EF n] ...
  kNearest,        // NEAREST items TO VECTOR [..] USING slot [QUERY "text"] [EF n] ...
  kFeed,           // FEED FOR USER 'u' [PROFILE p] ...
  kCreateCohort,   // CREATE COHORT name WHERE <predicate>
  kCreateProfile,  // CREATE PROFILE name AS <expr>
  kDropCohort,     // DROP COHORT name
  kCreateCohorts,  // CREATE COHORTS name BY attribute [BUCKETS (b1, b2, ...)]
  kCount,          // COUNT items [WHERE ...]: how many entities the WHERE keeps
};
inline constexpr StatementKind kLastStatementKind = StatementKind::kCount;

// Direction of a RANK BY sort; kDefault lets the sort mode decide (an
// attribute sorts descending).
enum class SortOrder : uint8_t { kDefault, kAsc, kDesc };

struct Diversify {
  std::string attribute;      // DIVERSIFY BY attribute
  int64_t max_per_value = 0;  // MAX n: at most n results share one value
  bool operator==(const Diversify&) const = default;
};

// SEARCH ... IN (title^2, body): a text attribute and its query-time boost.
struct SearchField {
  std::string name;
  double boost = 1.0;  // multiplies the attribute's own boost; 0 < boost <= 1000
  bool operator==(const SearchField&) const = default;
};

// One statement. Which fields a kind uses is listed beside each; the others
// stay empty. Empty strings mean "not given" (names are never empty).
struct Statement {
  StatementKind kind = StatementKind::kTrending;
  bool explain = false;  // EXPLAIN <query> (read queries only)
  SourcePos pos{};       // where the statement (or EXPLAIN) starts

  EntityKind target = EntityKind::kItem;  // items / users / creators (not FEED, CREATE)
  std::string cohort{};                   // TRENDING, RANK, SEARCH: FOR COHORT
  std::string signal{};                   // TRENDING: BY signal
  std::optional<Duration> window{};       // TRENDING (required), SEARCH: WINDOW
  bool within_trending = false;           // SEARCH: WITHIN TRENDING
  std::string text{};                     // SEARCH (SIMILAR, NEAREST: hybrid): QUERY "text"
  std::vector<SearchField> fields{};      // SEARCH: IN (a, b^2); empty = every text attribute
  bool match_all = false;                 // SEARCH: MATCH ALL (default MATCH ANY)
  std::string key{};                      // SIMILAR: TO 'key'
  std::vector<float> vector{};            // NEAREST: TO VECTOR [...]
  std::string slot{};                     // SIMILAR, NEAREST: USING slot
  std::optional<int64_t> ef{};            // SIMILAR, NEAREST: EF n (HNSW search breadth)
  std::string user{};                     // FEED: FOR USER 'u'
  std::string profile{};                  // FEED: PROFILE name
  std::optional<Expr> rank_by{};          // RANK (required); SEARCH, SIMILAR, NEAREST: RANK BY
  SortOrder order = SortOrder::kDefault;  // with rank_by
  std::optional<Expr> where{};            // every read query; CREATE COHORT (required)
  std::optional<Diversify> diversify{};   // every read query but COUNT
  std::optional<int64_t> limit{};         // every read query but COUNT
  std::optional<std::string> cursor{};    // every read query but COUNT
  std::optional<int64_t> as_of_us{};      // every read query but COUNT: AS OF 'time' (docs/time.md)
  std::string name{};                     // CREATE COHORT / PROFILE, DROP COHORT name
  std::optional<Expr> definition{};       // CREATE PROFILE name AS <expr>
  std::string by{};                       // CREATE COHORTS: BY attribute
  std::vector<int64_t> buckets{};         // CREATE COHORTS: BUCKETS (increasing bounds)
};

// A cohort of a family (CREATE COHORTS) is named family:value; FOR COHORT
// takes such a name as a string ('by_country:US').
bool is_cohort_name(std::string_view name);

// WHERE ... IN COHORT name parses to a call of this name whose one argument
// is the cohort's name as a string; the planner turns it into the cohort's
// members (users only).
inline constexpr std::string_view kInCohortCall = "in_cohort";

// Structural equality. Source positions are ignored: the same query written
// twice, or read from JSON, compares equal.
bool same_expr(const Expr& a, const Expr& b);
bool operator==(const Statement& a, const Statement& b);

// The height of an expression tree (a leaf is 1).
int expr_depth(const Expr& e);

// Checks the rules the parser enforces by construction, so that a Statement
// from any source (JSON, a test) can be printed as TQL and read back: names
// are identifiers and not reserved words, required fields are present,
// fields a kind does not use are empty, LIMIT/MAX/vector within limits,
// expressions well formed (operator arity, IN against a list or a name,
// EXISTS of a name, lists only right of IN, depth at most
// kMaxExpressionDepth). Errors name the field.
Status validate(const Statement& s);
// Whether running `s` writes (CREATE COHORT, DROP COHORT, CREATE PROFILE);
// the rest read.
bool writes(const Statement& s);
Status validate_expr(const Expr& e, std::string_view field);

// True when `name` can be written as a TQL identifier: [A-Za-z_][A-Za-z0-9_]*
// and not a reserved word.
bool is_identifier(std::string_view name);

// Names used by the JSON form and in messages: "trending", "create_cohort",
// ...; "items", "users", "creators"; "+", "<=", "and", "between", ....
std::string_view statement_kind_name(StatementKind k);
std::string_view target_name(EntityKind k);
std::string_view op_name(ExprOp op);

}  // namespace tidal::query
