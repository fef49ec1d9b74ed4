#include "query/parser.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <limits>

#include "core/time_text.h"
#include "query/lexer.h"
#include "query/limits.h"

namespace tidal::query {

namespace {

// "A", "A or B", "A, B or C".
std::string one_of(const std::vector<std::string>& options) {
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) {
    if (i > 0) out += i + 1 == options.size() ? " or " : ", ";
    out += options[i];
  }
  return out;
}

// A clause of a statement: its keyword, whether it must be there, and what
// parses the rest of it once the keyword is consumed.
struct Clause {
  std::string_view keyword;
  bool required;
  std::function<Status()> parse;
  std::string_view shown = {};  // how "expected ..." names it, when not `keyword`
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Result<Statement> statement() {
    Statement s;
    s.pos = peek().pos;
    if (accept_keyword("EXPLAIN")) {
      s.explain = true;
      if (!at_read_query()) {
        return expected({"TRENDING", "RANK", "SEARCH", "SIMILAR", "NEAREST", "FEED", "COUNT"});
      }
    }
    if (accept_keyword("TRENDING")) {
      s.kind = StatementKind::kTrending;
      TIDAL_RETURN_IF_ERROR(target(&s));
      std::vector<Clause> cs = {
          {"FOR", false, [&] { return cohort_clause(&s.cohort); }},
          {"BY", false, [&] { return name(&s.signal, "a signal name"); }},
          {"WINDOW", true, [&] { return window(&s); }},
      };
      return finish(&s, std::move(cs));
    }
    if (accept_keyword("RANK")) {
      s.kind = StatementKind::kRank;
      TIDAL_RETURN_IF_ERROR(target(&s));
      return finish(&s, {{"FOR", false, [&] { return for_clause(&s, true); }},
                         {"BY", true, [&] { return rank_by(&s); }}});
    }
    if (accept_keyword("SEARCH")) {
      s.kind = StatementKind::kSearch;
      TIDAL_RETURN_IF_ERROR(target(&s));
      std::vector<Clause> cs = text_clauses(&s, true);
      std::vector<Clause> more = {
          {"WITHIN", false,
           [&] {
             s.within_trending = true;
             return expect_keyword("TRENDING");
           }},
          {"FOR", false, [&] { return for_clause(&s, s.within_trending); }},
          {"WINDOW", false,
           [&] {
             if (!s.within_trending) return need_within();
             return window(&s);
           }},
      };
      for (Clause& c : more) cs.push_back(std::move(c));
      return finish(&s, std::move(cs), rank_after_where(&s));
    }
    if (accept_keyword("SIMILAR")) {
      s.kind = StatementKind::kSimilar;
      TIDAL_RETURN_IF_ERROR(target(&s));
      std::vector<Clause> cs = {
          {"TO", true, [&] { return string(&s.key, "the key as a string"); }},
          {"USING", true, [&] { return name(&s.slot, "a vector slot name"); }}};
      return finish(&s, vector_clauses(&s, std::move(cs)), rank_after_where(&s));
    }
    if (accept_keyword("NEAREST")) {
      s.kind = StatementKind::kNearest;
      TIDAL_RETURN_IF_ERROR(target(&s));
      std::vector<Clause> cs = {
          {"TO", true, [&] { return vector(&s); }},
          {"USING", true, [&] { return name(&s.slot, "a vector slot name"); }}};
      return finish(&s, vector_clauses(&s, std::move(cs)), rank_after_where(&s));
    }
    if (accept_keyword("FEED")) {
      s.kind = StatementKind::kFeed;
      return finish(&s, {{"FOR", true,
                          [&] {
                            TIDAL_RETURN_IF_ERROR(expect_keyword("USER"));
                            return string(&s.user, "the user's key as a string");
                          }},
                         {"PROFILE", false, [&] { return name(&s.profile, "a profile name"); }}});
    }
    if (accept_keyword("COUNT")) {
      s.kind = StatementKind::kCount;
      TIDAL_RETURN_IF_ERROR(target(&s));
      return finish(&s, {});
    }
    if (accept_keyword("CREATE")) {
      if (accept_keyword("COHORTS")) {
        s.kind = StatementKind::kCreateCohorts;
        TIDAL_RETURN_IF_ERROR(name(&s.name, "a cohort family name"));
        return finish(&s, {{"BY", true, [&] { return name(&s.by, "a user attribute name"); }},
                           {"BUCKETS", false, [&] { return buckets(&s); }}});
      }
      if (accept_keyword("COHORT")) {
        s.kind = StatementKind::kCreateCohort;
        TIDAL_RETURN_IF_ERROR(name(&s.name, "a cohort name"));
        return finish(&s, {{"WHERE", true, [&] { return expr_into(&s.where); }}});
      }
      if (accept_keyword("PROFILE")) {
        s.kind = StatementKind::kCreateProfile;
        TIDAL_RETURN_IF_ERROR(name(&s.name, "a profile name"));
        return finish(&s, {{"AS", true, [&] { return expr_into(&s.definition); }}});
      }
      return expected({"COHORT", "COHORTS", "PROFILE"});
    }
    if (accept_keyword("DROP")) {
      TIDAL_RETURN_IF_ERROR(expect_keyword("COHORT"));
      s.kind = StatementKind::kDropCohort;
      if (at(TokenKind::kString)) {
        s.name = next().text;  // a family's cohort, to be told to drop the family
      } else {
        TIDAL_RETURN_IF_ERROR(name(&s.name, "a cohort name"));
      }
      return finish(&s, {});
    }
    return expected({"TRENDING", "RANK", "SEARCH", "SIMILAR", "NEAREST", "FEED", "COUNT", "CREATE",
                     "DROP", "EXPLAIN"});
  }

  Result<Expr> lone_expression() {
    Expr e;
    TIDAL_RETURN_IF_ERROR(expr(&e));
    if (peek().kind != TokenKind::kEnd) return expected({"an operator", "end of expression"});
    return e;
  }

 private:
  // --- tokens ---------------------------------------------------------------

  const Token& peek(size_t ahead = 0) const {
    size_t k = std::min(i_ + ahead, toks_.size() - 1);
    return toks_[k];
  }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool at(TokenKind k) const { return peek().kind == k; }
  bool accept(TokenKind k) {
    if (!at(k)) return false;
    next();
    return true;
  }
  bool at_keyword(std::string_view kw, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kIdentifier && equals_ignore_case(peek(ahead).text, kw);
  }
  bool accept_keyword(std::string_view kw) {
    if (!at_keyword(kw)) return false;
    next();
    return true;
  }
  bool at_read_query() const {
    for (std::string_view kw :
         {"TRENDING", "RANK", "SEARCH", "SIMILAR", "NEAREST", "FEED", "COUNT"}) {
      if (at_keyword(kw)) return true;
    }
    return false;
  }

  // QUERY '...' [IN (...)] [MATCH ALL|ANY]: SEARCH's text (required there),
  // SIMILAR's and NEAREST's for hybrid ranking.
  std::vector<Clause> text_clauses(Statement* s, bool required) {
    return {
        {"QUERY", required, [this, s] { return string(&s->text, "the search text as a string"); }},
        {"IN", false, [this, s] { return search_fields(s); }},
        {"MATCH", false,
         [this, s] {
           if (accept_keyword("ALL")) {
             s->match_all = true;
             return Status::Ok();
           }
           if (accept_keyword("ANY")) return Status::Ok();
           return expected({"ALL", "ANY"});
         }},
    };
  }

  // SIMILAR and NEAREST: `cs` (TO, USING), then an optional text and EF n.
  std::vector<Clause> vector_clauses(Statement* s, std::vector<Clause> cs) {
    for (Clause& c : text_clauses(s, false)) cs.push_back(std::move(c));
    cs.push_back({"EF", false, [this, s] {
                    int64_t n = 0;
                    TIDAL_RETURN_IF_ERROR(count(&n, "EF"));
                    if (n > kMaxEf) {
                      return syntax_error(peek().pos, "EF is at most " + std::to_string(kMaxEf));
                    }
                    s->ef = n;
                    return Status::Ok();
                  }});
    return cs;
  }

  // RANK BY after WHERE (SEARCH, SIMILAR, NEAREST).
  std::vector<Clause> rank_after_where(Statement* s) {
    return {{"RANK", false, [this, s] {
               TIDAL_RETURN_IF_ERROR(expect_keyword("BY"));
               return rank_by(s);
             }}};
  }

  Status expected(const std::vector<std::string>& what) const {
    return syntax_error(peek().pos,
                        "expected " + one_of(what) + ", found " + describe_token(peek()));
  }
  Status expect(TokenKind k, std::string_view what) {
    if (!accept(k)) return expected({std::string(what)});
    return Status::Ok();
  }
  Status expect_keyword(std::string_view kw) {
    if (!accept_keyword(kw)) return expected({std::string(kw)});
    return Status::Ok();
  }

  // --- clauses --------------------------------------------------------------

  // Parses the statement's own clauses `cs`, then the clauses every read
  // query shares (WHERE, then `after_where`, DIVERSIFY, LIMIT, CURSOR, AS
  // OF; COUNT has only WHERE), in that order, each at most once; then an
  // optional ';' and the end.
  Result<Statement> finish(Statement* s, std::vector<Clause> cs,
                           std::vector<Clause> after_where = {}) {
    if (s->kind == StatementKind::kCount) {
      cs.push_back({"WHERE", false, [this, s] { return expr_into(&s->where); }});
    } else if (!writes(*s)) {
      cs.push_back({"WHERE", false, [this, s] { return expr_into(&s->where); }});
      for (Clause& c : after_where) cs.push_back(std::move(c));
      cs.push_back({"DIVERSIFY", false, [this, s] { return diversify(s); }});
      cs.push_back({"LIMIT", false, [this, s] {
                      int64_t n = 0;
                      TIDAL_RETURN_IF_ERROR(count(&n, "LIMIT"));
                      s->limit = n;
                      return Status::Ok();
                    }});
      cs.push_back({"CURSOR", false, [this, s] {
                      std::string c;
                      TIDAL_RETURN_IF_ERROR(string(&c, "the cursor as a string"));
                      s->cursor = std::move(c);
                      return Status::Ok();
                    }});
      cs.push_back({"AS", false, [this, s] { return as_of(s); }, "AS OF"});
    }
    size_t from = 0;
    while (true) {
      size_t found = cs.size();
      for (size_t k = from; k < cs.size(); ++k) {
        if (at_keyword(cs[k].keyword)) {
          found = k;
          break;
        }
      }
      // A required clause may not be skipped.
      for (size_t k = from; k < found; ++k) {
        if (cs[k].required) return expected_clauses(cs, from, k + 1, false);
      }
      if (found == cs.size()) break;
      next();
      also_expected_.clear();
      TIDAL_RETURN_IF_ERROR(cs[found].parse());
      from = found + 1;
    }
    accept(TokenKind::kSemicolon);
    if (!at(TokenKind::kEnd)) return expected_clauses(cs, from, cs.size(), true);
    return std::move(*s);
  }

  Status expected_clauses(const std::vector<Clause>& cs, size_t from, size_t to, bool end) const {
    std::vector<std::string> what = also_expected_;
    for (size_t k = from; k < to; ++k) {
      what.emplace_back(cs[k].shown.empty() ? cs[k].keyword : cs[k].shown);
    }
    if (end) what.emplace_back("end of query");
    return expected(what);
  }

  Status need_within() const {
    return syntax_error(toks_[i_ - 1].pos,
                        std::string(toks_[i_ - 1].text) + " in SEARCH needs WITHIN TRENDING first");
  }

  Status target(Statement* s) {
    if (accept_keyword("ITEMS")) {
      s->target = EntityKind::kItem;
    } else if (accept_keyword("USERS")) {
      s->target = EntityKind::kUser;
    } else if (accept_keyword("CREATORS")) {
      s->target = EntityKind::kCreator;
    } else {
      return expected({"ITEMS", "USERS", "CREATORS"});
    }
    return Status::Ok();
  }

  Status name(std::string* out, std::string_view what) {
    if (!at(TokenKind::kIdentifier) || is_reserved(peek().text)) {
      return expected({std::string(what)});
    }
    *out = next().text;
    return Status::Ok();
  }

  Status string(std::string* out, std::string_view what) {
    if (!at(TokenKind::kString)) return expected({std::string(what)});
    *out = next().text;
    return Status::Ok();
  }

  // IN (name [^ boost], ...)
  Status search_fields(Statement* s) {
    TIDAL_RETURN_IF_ERROR(expect(TokenKind::kLParen, "'('"));
    do {
      SearchField f;
      TIDAL_RETURN_IF_ERROR(name(&f.name, "a text attribute name"));
      if (accept(TokenKind::kCaret)) {
        if (!at(TokenKind::kNumber)) return expected({"a boost such as 2 or 0.5"});
        const Token& t = next();
        if (!(t.number > 0 && t.number <= 1000)) {
          return syntax_error(t.pos, "a boost must be above 0 and at most 1000, found " + t.text);
        }
        f.boost = t.number;
      }
      s->fields.push_back(std::move(f));
    } while (accept(TokenKind::kComma));
    return expect(TokenKind::kRParen, "',' or ')'");
  }

  // AS OF 'time': the present the query answers at (RFC 3339).
  Status as_of(Statement* s) {
    TIDAL_RETURN_IF_ERROR(expect_keyword("OF"));
    if (!at(TokenKind::kString)) return expected({"a time such as '2026-11-24T12:00:00Z'"});
    const Token& t = next();
    Result<Timestamp> at_time = parse_rfc3339(t.text, "AS OF", Subsystem::kQuery);
    if (!at_time.ok()) {
      return syntax_error(t.pos,
                          "AS OF needs an RFC 3339 time such as '2026-11-24T12:00:00Z', "
                          "found '" +
                              t.text + "'");
    }
    s->as_of_us = to_micros(*at_time);
    return Status::Ok();
  }

  // After FOR: COHORT c or USER 'u', then optionally FOR and the other one.
  // `cohort_allowed`: FOR COHORT may appear here (SEARCH needs WITHIN
  // TRENDING first).
  Status for_clause(Statement* s, bool cohort_allowed) {
    bool first = true;
    while (first || accept_keyword("FOR")) {
      first = false;
      if (accept_keyword("USER")) {
        if (!s->user.empty()) return syntax_error(peek().pos, "FOR USER is given twice");
        if (s->target != EntityKind::kItem) {
          return syntax_error(toks_[i_ - 1].pos,
                              "FOR USER ranks items for a user: write RANK items FOR USER 'u'");
        }
        TIDAL_RETURN_IF_ERROR(string(&s->user, "the user's key as a string"));
        continue;
      }
      if (!at_keyword("COHORT")) return expected({"COHORT", "USER"});
      if (!cohort_allowed) return need_within();
      if (!s->cohort.empty()) return syntax_error(peek().pos, "FOR COHORT is given twice");
      TIDAL_RETURN_IF_ERROR(cohort_clause(&s->cohort));
    }
    return Status::Ok();
  }

  Status cohort_clause(std::string* out) {
    TIDAL_RETURN_IF_ERROR(expect_keyword("COHORT"));
    // A cohort of a family is written as a string: 'by_country:US'.
    if (at(TokenKind::kString)) {
      *out = next().text;
      return Status::Ok();
    }
    return name(out, "a cohort name");
  }

  // BUCKETS (13, 18, 25): whole numbers, in increasing order (validate()
  // says which one is not).
  Status buckets(Statement* s) {
    TIDAL_RETURN_IF_ERROR(expect(TokenKind::kLParen, "("));
    while (true) {
      bool negative = false;
      if (at(TokenKind::kMinus)) {
        next();
        negative = true;
      }
      if (!at(TokenKind::kNumber)) return expected({"a whole number"});
      const Token& t = next();
      if (t.number != std::floor(t.number) || std::fabs(t.number) > 9e15) {
        return syntax_error(t.pos, "a bucket bound is a whole number, found " + t.text);
      }
      s->buckets.push_back(static_cast<int64_t>(negative ? -t.number : t.number));
      if (at(TokenKind::kComma)) {
        next();
        continue;
      }
      return expect(TokenKind::kRParen, ")");
    }
  }

  Status window(Statement* s) {
    if (!at(TokenKind::kDuration)) return expected({"a duration such as 1h, 24h or 7d"});
    const Token& t = next();
    if (t.duration.count() <= 0) return syntax_error(t.pos, "WINDOW must be longer than 0s");
    s->window = t.duration;
    return Status::Ok();
  }

  // A whole number from 1 to kMaxLimit.
  Status count(int64_t* out, std::string_view what) {
    if (!at(TokenKind::kNumber)) return expected({"a whole number"});
    const Token& t = next();
    if (t.number != std::floor(t.number) || t.number < 1 ||
        t.number > static_cast<double>(kMaxLimit)) {
      return syntax_error(t.pos, std::string(what) + " must be a whole number from 1 to " +
                                     std::to_string(kMaxLimit) + ", found " + t.text);
    }
    *out = static_cast<int64_t>(t.number);
    return Status::Ok();
  }

  Status rank_by(Statement* s) {
    Expr e;
    TIDAL_RETURN_IF_ERROR(expr(&e));
    s->rank_by = std::move(e);
    if (accept_keyword("ASC")) {
      s->order = SortOrder::kAsc;
    } else if (accept_keyword("DESC")) {
      s->order = SortOrder::kDesc;
    } else {
      also_expected_ = {"ASC", "DESC"};
    }
    return Status::Ok();
  }

  Status diversify(Statement* s) {
    Diversify d;
    TIDAL_RETURN_IF_ERROR(expect_keyword("BY"));
    TIDAL_RETURN_IF_ERROR(name(&d.attribute, "an attribute name"));
    TIDAL_RETURN_IF_ERROR(expect_keyword("MAX"));
    TIDAL_RETURN_IF_ERROR(count(&d.max_per_value, "MAX"));
    s->diversify = std::move(d);
    return Status::Ok();
  }

  Status vector(Statement* s) {
    TIDAL_RETURN_IF_ERROR(expect_keyword("VECTOR"));
    TIDAL_RETURN_IF_ERROR(expect(TokenKind::kLBracket, "'['"));
    while (true) {
      SourcePos at_pos = peek().pos;
      bool negative = accept(TokenKind::kMinus);
      if (!at(TokenKind::kNumber)) return expected({"a number"});
      double v = next().number * (negative ? -1 : 1);
      if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
        return syntax_error(at_pos, "vector value is out of the range of a 32-bit float");
      }
      if (s->vector.size() == kMaxVectorLength) {
        return syntax_error(
            at_pos, "a vector holds at most " + std::to_string(kMaxVectorLength) + " values");
      }
      s->vector.push_back(static_cast<float>(v));
      if (accept(TokenKind::kRBracket)) break;
      if (!accept(TokenKind::kComma)) return expected({"','", "']'"});
    }
    return Status::Ok();
  }

  Status expr_into(std::optional<Expr>* out) {
    Expr e;
    TIDAL_RETURN_IF_ERROR(expr(&e));
    *out = std::move(e);
    return Status::Ok();
  }

  // --- expressions ----------------------------------------------------------
  //
  // Precedence, loosest first: OR; AND; NOT; comparisons, IN, BETWEEN;
  // + -; * /; unary -; literals, names, calls, ( ).

  // Counts recursion through parentheses, call arguments and prefix
  // operators; deeper than kMaxExpressionDepth is an error, never a stack
  // overflow.
  struct Nest {
    explicit Nest(int* d) : depth(d) { ++*depth; }
    ~Nest() { --*depth; }
    int* depth;
  };
  Status too_deep(SourcePos pos) const {
    return syntax_error(pos, "expression is nested more than " +
                                 std::to_string(kMaxExpressionDepth) + " levels deep");
  }

  // Builds an operator node; its height must stay within kMaxExpressionDepth
  // (a long chain such as 1+1+1+... is deep without recursing).
  Status node(Expr* out, ExprKind kind, ExprOp op, SourcePos pos, std::vector<Expr> args) {
    Expr e;
    e.kind = kind;
    e.op = op;
    e.pos = pos;
    e.args = std::move(args);
    if (expr_depth(e) > kMaxExpressionDepth) return too_deep(pos);
    *out = std::move(e);
    return Status::Ok();
  }

  Status expr(Expr* out) {
    Nest n(&depth_);
    if (depth_ > kMaxExpressionDepth) return too_deep(peek().pos);
    return or_expr(out);
  }

  // One left-associative level: operand { op operand }. `op_here` names the
  // operator at the current token, kNone when the level ends there.
  Status chain(Expr* out, Status (Parser::*operand)(Expr*), ExprOp (Parser::*op_here)() const) {
    TIDAL_RETURN_IF_ERROR((this->*operand)(out));
    for (ExprOp op = (this->*op_here)(); op != ExprOp::kNone; op = (this->*op_here)()) {
      SourcePos pos = next().pos;
      Expr rhs;
      TIDAL_RETURN_IF_ERROR((this->*operand)(&rhs));
      TIDAL_RETURN_IF_ERROR(
          node(out, ExprKind::kBinary, op, pos, {std::move(*out), std::move(rhs)}));
    }
    return Status::Ok();
  }

  ExprOp or_here() const { return at_keyword("OR") ? ExprOp::kOr : ExprOp::kNone; }
  ExprOp and_here() const { return at_keyword("AND") ? ExprOp::kAnd : ExprOp::kNone; }
  ExprOp additive_here() const {
    if (at(TokenKind::kPlus)) return ExprOp::kAdd;
    return at(TokenKind::kMinus) ? ExprOp::kSub : ExprOp::kNone;
  }
  ExprOp multiplicative_here() const {
    if (at(TokenKind::kStar)) return ExprOp::kMul;
    return at(TokenKind::kSlash) ? ExprOp::kDiv : ExprOp::kNone;
  }

  Status or_expr(Expr* out) { return chain(out, &Parser::and_expr, &Parser::or_here); }
  Status and_expr(Expr* out) { return chain(out, &Parser::not_expr, &Parser::and_here); }
  Status additive(Expr* out) { return chain(out, &Parser::multiplicative, &Parser::additive_here); }
  Status multiplicative(Expr* out) {
    return chain(out, &Parser::unary, &Parser::multiplicative_here);
  }

  Status not_expr(Expr* out) {
    if (!at_keyword("NOT")) return comparison(out);
    SourcePos pos = next().pos;
    Nest n(&depth_);
    if (depth_ > kMaxExpressionDepth) return too_deep(pos);
    Expr operand;
    TIDAL_RETURN_IF_ERROR(not_expr(&operand));
    return node(out, ExprKind::kUnary, ExprOp::kNot, pos, {std::move(operand)});
  }

  static ExprOp comparison_op(TokenKind k) {
    switch (k) {
      case TokenKind::kEq: return ExprOp::kEq;
      case TokenKind::kNe: return ExprOp::kNe;
      case TokenKind::kLt: return ExprOp::kLt;
      case TokenKind::kLe: return ExprOp::kLe;
      case TokenKind::kGt: return ExprOp::kGt;
      case TokenKind::kGe: return ExprOp::kGe;
      default: return ExprOp::kNone;
    }
  }

  Status comparison(Expr* out) {
    TIDAL_RETURN_IF_ERROR(additive(out));
    ExprOp op = comparison_op(peek().kind);
    if (op != ExprOp::kNone) {
      SourcePos pos = next().pos;
      Expr rhs;
      TIDAL_RETURN_IF_ERROR(additive(&rhs));
      return node(out, ExprKind::kBinary, op, pos, {std::move(*out), std::move(rhs)});
    }
    // x NOT IN (...), x NOT BETWEEN a AND b: NOT of the positive form.
    bool negated = false;
    SourcePos not_pos = peek().pos;
    if (at_keyword("NOT") && (at_keyword("IN", 1) || at_keyword("BETWEEN", 1))) {
      next();
      negated = true;
    }
    if (at_keyword("IN")) {
      SourcePos pos = next().pos;
      Expr rhs;
      TIDAL_RETURN_IF_ERROR(in_rhs(&rhs));
      TIDAL_RETURN_IF_ERROR(
          node(out, ExprKind::kBinary, ExprOp::kIn, pos, {std::move(*out), std::move(rhs)}));
    } else if (at_keyword("BETWEEN")) {
      SourcePos pos = next().pos;
      Expr lo, hi;
      TIDAL_RETURN_IF_ERROR(additive(&lo));
      TIDAL_RETURN_IF_ERROR(expect_keyword("AND"));
      TIDAL_RETURN_IF_ERROR(additive(&hi));
      TIDAL_RETURN_IF_ERROR(node(out, ExprKind::kBinary, ExprOp::kBetween, pos,
                                 {std::move(*out), std::move(lo), std::move(hi)}));
    } else {
      return Status::Ok();
    }
    if (negated) return node(out, ExprKind::kUnary, ExprOp::kNot, not_pos, {std::move(*out)});
    return Status::Ok();
  }

  // The right side of IN: ( value, ... ) or an attribute name (tags).
  Status in_rhs(Expr* out) {
    SourcePos pos = peek().pos;
    if (at(TokenKind::kIdentifier) && !is_reserved(peek().text)) {
      out->kind = ExprKind::kIdentifier;
      out->pos = pos;
      out->text = next().text;
      return Status::Ok();
    }
    if (!accept(TokenKind::kLParen)) return expected({"'('", "an attribute name"});
    std::vector<Expr> values;
    while (true) {
      if (values.size() == kMaxInListSize) {
        return syntax_error(
            peek().pos, "an IN list holds at most " + std::to_string(kMaxInListSize) + " values");
      }
      values.emplace_back();
      TIDAL_RETURN_IF_ERROR(expr(&values.back()));
      if (accept(TokenKind::kRParen)) break;
      if (!accept(TokenKind::kComma)) return expected({"','", "')'"});
    }
    return node(out, ExprKind::kList, ExprOp::kNone, pos, std::move(values));
  }

  Status unary(Expr* out) {
    if (!at(TokenKind::kMinus)) return primary(out);
    SourcePos pos = next().pos;
    Nest n(&depth_);
    if (depth_ > kMaxExpressionDepth) return too_deep(pos);
    Expr operand;
    TIDAL_RETURN_IF_ERROR(unary(&operand));
    return node(out, ExprKind::kUnary, ExprOp::kNeg, pos, {std::move(operand)});
  }

  Status primary(Expr* out) {
    const Token& t = peek();
    out->pos = t.pos;
    switch (t.kind) {
      case TokenKind::kNumber:
        out->kind = ExprKind::kNumber;
        out->number = next().number;
        return Status::Ok();
      case TokenKind::kString:
        out->kind = ExprKind::kString;
        out->text = next().text;
        return Status::Ok();
      case TokenKind::kDuration:
        out->kind = ExprKind::kDuration;
        out->duration = next().duration;
        return Status::Ok();
      case TokenKind::kLParen: {
        next();
        TIDAL_RETURN_IF_ERROR(expr(out));
        return expect(TokenKind::kRParen, "')'");
      }
      case TokenKind::kIdentifier: break;
      default: return expected({"an expression"});
    }
    if (at_keyword("TRUE") || at_keyword("FALSE")) {
      out->kind = ExprKind::kBool;
      out->number = at_keyword("TRUE") ? 1 : 0;
      next();
      return Status::Ok();
    }
    if (at_keyword("EXISTS")) {
      SourcePos pos = next().pos;
      Expr attr;
      attr.kind = ExprKind::kIdentifier;
      attr.pos = peek().pos;
      TIDAL_RETURN_IF_ERROR(name(&attr.text, "an attribute name"));
      return node(out, ExprKind::kUnary, ExprOp::kExists, pos, {std::move(attr)});
    }
    if (at_keyword("IN") && at_keyword("COHORT", 1)) {
      // IN COHORT name (or 'family:value'): a user's membership.
      SourcePos pos = next().pos;
      next();
      Expr cohort;
      cohort.kind = ExprKind::kString;
      cohort.pos = peek().pos;
      if (at(TokenKind::kString)) {
        cohort.text = next().text;
      } else {
        TIDAL_RETURN_IF_ERROR(name(&cohort.text, "a cohort name"));
      }
      TIDAL_RETURN_IF_ERROR(node(out, ExprKind::kCall, ExprOp::kNone, pos, {std::move(cohort)}));
      out->text = std::string(kInCohortCall);
      return Status::Ok();
    }
    if (is_reserved(t.text)) return expected({"an expression"});
    std::string word = next().text;
    if (!accept(TokenKind::kLParen)) {
      out->kind = ExprKind::kIdentifier;
      out->text = std::move(word);
      return Status::Ok();
    }
    // A call: name( [expr {, expr}] ). if(c, a, b) is its own kind.
    SourcePos pos = out->pos;
    std::vector<Expr> args;
    if (!accept(TokenKind::kRParen)) {
      while (true) {
        args.emplace_back();
        TIDAL_RETURN_IF_ERROR(expr(&args.back()));
        if (accept(TokenKind::kRParen)) break;
        if (!accept(TokenKind::kComma)) return expected({"','", "')'"});
      }
    }
    if (equals_ignore_case(word, "if")) {
      if (args.size() != 3) {
        return syntax_error(pos, "if(condition, then, else) takes 3 arguments, found " +
                                     std::to_string(args.size()));
      }
      return node(out, ExprKind::kIf, ExprOp::kNone, pos, std::move(args));
    }
    TIDAL_RETURN_IF_ERROR(node(out, ExprKind::kCall, ExprOp::kNone, pos, std::move(args)));
    out->text = std::move(word);
    return Status::Ok();
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
  // Keywords that could have continued the last clause (ASC, DESC after a
  // sort expression), for "expected ..." messages.
  std::vector<std::string> also_expected_;
};

}  // namespace

Result<Statement> parse(std::string_view text) {
  auto tokens = tokenize(text);
  if (!tokens.ok()) return tokens.status();
  return Parser(std::move(*tokens)).statement();
}

Result<Expr> parse_expression(std::string_view text) {
  auto tokens = tokenize(text);
  if (!tokens.ok()) return tokens.status();
  return Parser(std::move(*tokens)).lone_expression();
}

}  // namespace tidal::query
