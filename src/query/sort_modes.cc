#include "query/sort_modes.h"

#include <algorithm>
#include <array>

#include "core/duration.h"
#include "query/parser.h"
#include "query/printer.h"
#include "ranking/profile.h"

namespace tidal::query {

namespace {

// Which signal types a role accepts.
enum class RoleKind : uint8_t {
  kAny,    // count or sum
  kCount,  // value_kind count
  kSum,    // value_kind sum
};

struct Role {
  Role(std::string_view signal, RoleKind k = RoleKind::kCount) : default_signal(signal), kind(k) {}
  std::string_view default_signal;  // "" = the schema's first signal type
  RoleKind kind = RoleKind::kCount;
};

enum class WindowRule : uint8_t {
  kNone,      // the mode reads no window
  kLongest,   // default: the longest window every role's signal type declares
  kShortest,  // default: the shortest such window
};

struct ModeSpec {
  SortModeInfo info;
  std::vector<Role> roles;
  WindowRule window = WindowRule::kNone;
  bool needs_velocity = false;         // role 0 must track velocity
  bool takes_seed = false;             // explore
  std::string_view sum_formula;        // used instead when role 0 is a sum signal type
  bool needs_cohort = false;           // reads the query's cohort against everyone
  bool needs_user = false;             // reads the query's user (FEED FOR USER)
  SortIndex bound = SortIndex::kNone;  // see ResolvedMode::bound (role 0, the window)
};

const std::vector<ModeSpec>& specs() {
  static const std::vector<ModeSpec> kSpecs = [] {
    const Role first_any{"", RoleKind::kAny};
    const Role first_count{"", RoleKind::kCount};
    std::vector<ModeSpec> v;
    auto add = [&](SortModeInfo info, std::vector<Role> roles,
                   WindowRule window = WindowRule::kNone, bool needs_velocity = false,
                   bool takes_seed = false, std::string_view sum_formula = {}) {
      ModeSpec m;
      m.info = info;
      m.roles = std::move(roles);
      m.window = window;
      m.needs_velocity = needs_velocity;
      m.takes_seed = takes_seed;
      m.sum_formula = sum_formula;
      v.push_back(std::move(m));
    };
    auto info = [](std::string_view name, std::string_view signature, std::string_view summary,
                   std::string_view formula, bool ascending = false) {
      SortModeInfo i;
      i.name = name;
      i.signature = signature;
      i.summary = summary;
      i.formula = formula;
      i.ascending = ascending;
      return i;
    };
    add(info("hot", "hot([signal])", "the forward-decayed score of a signal type", "decay({0})"),
        {first_any});
    add(info("new", "new", "newest first, by created_at", "created_at"), {});
    add(info("relevance", "relevance",
             "BM25 relevance of the SEARCH query's text (SEARCH only; its default sort)", "bm25"),
        {});
    add(info("oldest", "oldest", "oldest first, by created_at", "created_at", true), {});
    add(info("top", "top([signal] [, window])",
             "events in a window (the summed values for a sum signal type)", "count({0}, {w})"),
        {first_any}, WindowRule::kLongest, false, false, "sum({0}, {w})");
    add(info("rising", "rising([signal] [, window])",
             "growth: events in the window minus events in the window before it",
             "velocity({0}, {w})"),
        {first_count}, WindowRule::kShortest, true);
    add(info("trending", "trending([signal] [, window])",
             "volume times growth: the window's events times their ratio to the previous "
             "window's",
             "count({0}, {w}) * (count({0}, {w}) + 1) / (prev_count({0}, {w}) + 1)"),
        {first_count}, WindowRule::kShortest, true);
    add(info("best", "best([positive, negative] [, window])",
             "the Wilson lower bound of the share of positive events",
             "wilson(count({0}, {w}), count({0}, {w}) + count({1}, {w}))"),
        {{"like"}, {"skip"}}, WindowRule::kLongest);
    add(info("controversial", "controversial([positive, negative] [, window])",
             "many events, evenly split between positive and negative",
             "if(min(count({0}, {w}), count({1}, {w})) > 0, pow(count({0}, {w}) + count({1}, "
             "{w}), min(count({0}, {w}), count({1}, {w})) / max(count({0}, {w}), count({1}, "
             "{w}))), 0)"),
        {{"like"}, {"skip"}}, WindowRule::kLongest);
    add(info("most_viewed", "most_viewed([window])", "views in a window", "count({0}, {w})"),
        {{"view"}}, WindowRule::kLongest);
    add(info("most_liked", "most_liked([window])", "likes in a window", "count({0}, {w})"),
        {{"like"}}, WindowRule::kLongest);
    add(info("most_shared", "most_shared([window])", "shares in a window", "count({0}, {w})"),
        {{"share"}}, WindowRule::kLongest);
    add(info("completion_rate", "completion_rate([completion, view] [, window])",
             "completions per view, smoothed", "rate(count({0}, {w}), count({1}, {w}))"),
        {{"completion"}, {"view"}}, WindowRule::kLongest);
    add(info("avg_dwell", "avg_dwell([dwell, view] [, window])", "seconds of dwell time per view",
             "sum({0}, {w}) / max(count({1}, {w}), 1)"),
        {{"dwell_time", RoleKind::kSum}, {"view"}}, WindowRule::kLongest);
    add(info("engagement_rate", "engagement_rate([like, share, completion, view] [, window])",
             "likes, shares and completions per view, smoothed",
             "rate(count({0}, {w}) + count({1}, {w}) + count({2}, {w}), count({3}, {w}))"),
        {{"like"}, {"share"}, {"completion"}, {"view"}}, WindowRule::kLongest);
    add(info("skip_rate", "skip_rate([skip, view] [, window])", "skips per view, smoothed",
             "rate(count({0}, {w}), count({1}, {w}))"),
        {{"skip"}, {"view"}}, WindowRule::kLongest);
    add(info("fresh_hot", "fresh_hot([signal] [, window])",
             "points over age: events in the window / (age in hours + 2)^1.8",
             "count({0}, {w}) / pow(age / 3600 + 2, 1.8)"),
        {first_count}, WindowRule::kLongest);
    add(info("explore", "explore([positive, trials] [, window] [, seed])",
             "a draw from each item's posterior engagement rate (Thompson sampling)",
             "clamp(rate(count({0}, {w}), count({1}, {w})) + gaussian({seed}) * "
             "sqrt(rate(count({0}, {w}), count({1}, {w})) * (1 - rate(count({0}, {w}), "
             "count({1}, {w}))) / (count({1}, {w}) + 3)), 0, 1)"),
        {{"like"}, {"view"}}, WindowRule::kLongest, false, true);
    // The cohort's count c and everyone's g: c <= g (the cohort's events are
    // some of everyone's), so the score is at most c, which the cohort's
    // window-count index bounds.
    add(info("cohort_trending", "cohort_trending([signal] [, window])",
             "what the FOR COHORT audience engages with more than everyone does: its events in "
             "the window times its share of the item's events",
             "count({0}, {w}) * (count({0}, {w}) + 1) / (count({0}, {w}, cohort = all) + 1)"),
        {first_count}, WindowRule::kShortest);
    v.back().needs_cohort = true;
    v.back().bound = SortIndex::kCount;
    // The user's modes (docs/feeds.md). {pref} becomes
    // " + 0.2 * max(preference(slot), 0)" for each item vector attribute.
    add(info("for_you", "for_you([signal] [, window])",
             "the feed's default: what the user's recent items are co-engaged with, close to "
             "their preference vectors, from creators they like and follow, scaled up by "
             "popularity (which ranks alone for a user with no history)",
             "(co_engagement{pref} + 0.1 * log1p(creator_affinity) + 0.1 * followed + 0.01) * "
             "(1 + 0.1 * log1p(count({0}, {w}))) / (1 + 0.5 * served)"),
        {first_count}, WindowRule::kLongest);
    v.back().needs_user = v.back().info.needs_user = true;
    add(info("following", "following([signal] [, window])",
             "newest and hottest from the creators the user follows (0 for everything else)",
             "followed * (count({0}, {w}) + 1) / pow(age / 3600 + 2, 1.8)"),
        {first_count}, WindowRule::kLongest);
    v.back().needs_user = v.back().info.needs_user = true;
    add(info("affinity", "affinity([signal])",
             "by the user's affinity to the item's creator; popularity breaks ties",
             "creator_affinity + 0.001 * log1p(decay({0}))"),
        {first_any});
    v.back().needs_user = v.back().info.needs_user = true;
    return v;
  }();
  return kSpecs;
}

const ModeSpec* find_spec(std::string_view name) {
  for (const ModeSpec& s : specs()) {
    if (s.info.name == name) return &s;
  }
  return nullptr;
}

Status sort_error(const Expr& at, std::string_view value, std::string rule) {
  return Status::Invalid(Subsystem::kQuery, "sort", std::string(value),
                         "line " + std::to_string(at.pos.line) + ", column " +
                             std::to_string(at.pos.column) + ": " + std::move(rule));
}

std::string window_list(const std::vector<Duration>& ws) {
  std::string out;
  for (Duration w : ws) out += (out.empty() ? "" : ", ") + format_duration(w);
  return out.empty() ? "none" : out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

const std::vector<SortModeInfo>& sort_modes() {
  static const std::vector<SortModeInfo> kInfos = [] {
    std::vector<SortModeInfo> v;
    for (const ModeSpec& s : specs()) v.push_back(s.info);
    return v;
  }();
  return kInfos;
}

bool is_sort_mode(std::string_view name) {
  return find_spec(name) != nullptr;
}

Result<ResolvedMode> resolve_mode(const Expr& e, const Schema& schema, const ModeContext& ctx) {
  const uint64_t seed = ctx.seed;
  const ModeSpec* spec = find_spec(e.text);
  if (spec == nullptr || (e.kind != ExprKind::kIdentifier && e.kind != ExprKind::kCall)) {
    return sort_error(e, e.text, "not a sort mode");
  }
  const std::string name(spec->info.name);
  if (spec->needs_cohort && !ctx.for_cohort) {
    return sort_error(e, name,
                      name +
                          " compares an audience with everyone, so the query needs FOR "
                          "COHORT <name> (e.g. RANK items FOR COHORT young BY " +
                          name + ")");
  }
  if (spec->needs_user && !ctx.for_user) {
    return sort_error(e, name,
                      name +
                          " ranks for one user, so it needs FEED FOR USER 'u' (e.g. FEED FOR "
                          "USER 'u_42' PROFILE " +
                          name + ", or RANK items FOR USER 'u_42' BY " + name + ")");
  }
  const std::string usage = "usage: " + std::string(spec->info.signature);

  // Arguments: signal type names first, then a window, then (explore) a seed.
  std::vector<std::string> signals;
  std::optional<Duration> window;
  std::optional<uint64_t> given_seed;
  for (const Expr& a : e.args) {
    if (a.kind == ExprKind::kIdentifier && !window && !given_seed) {
      if (signals.size() == spec->roles.size()) {
        return sort_error(a, a.text,
                          name + " takes at most " + std::to_string(spec->roles.size()) +
                              " signal types; " + usage);
      }
      signals.push_back(a.text);
    } else if (a.kind == ExprKind::kDuration && !window && !given_seed &&
               spec->window != WindowRule::kNone) {
      window = a.duration;
    } else if (a.kind == ExprKind::kNumber && spec->takes_seed && !given_seed && a.number >= 0 &&
               a.number < 9007199254740992.0 &&
               a.number == static_cast<double>(static_cast<uint64_t>(a.number))) {
      given_seed = static_cast<uint64_t>(a.number);
    } else {
      return sort_error(a, a.kind == ExprKind::kIdentifier ? a.text : to_tql(a),
                        "unexpected argument of " + name + "; " + usage);
    }
  }
  if (!signals.empty() && signals.size() != spec->roles.size()) {
    return sort_error(
        e, name,
        "name all " + std::to_string(spec->roles.size()) + " signal types or none; " + usage);
  }

  // Fill and check the roles.
  std::vector<const SignalTypeDefinition*> defs;
  for (size_t i = 0; i < spec->roles.size(); ++i) {
    const Role& role = spec->roles[i];
    std::string signal = signals.empty() ? std::string(role.default_signal) : signals[i];
    if (signal.empty()) {
      if (schema.signals().empty()) return sort_error(e, name, "the schema has no signal types");
      signal = schema.signals().front().name;
    }
    const SignalTypeDefinition* def = schema.find_signal(signal);
    if (def == nullptr) {
      return sort_error(e, signal,
                        name + " reads signal type \"" + signal +
                            "\", which the schema does not have; name the signal types to use (" +
                            usage + ")");
    }
    const bool is_sum = def->value_kind == ValueKind::kSum;
    if (role.kind == RoleKind::kCount && is_sum) {
      return sort_error(
          e, signal,
          name + " counts events of \"" + signal + "\", but it is a sum signal type; " + usage);
    }
    if (role.kind == RoleKind::kSum && !is_sum) {
      return sort_error(
          e, signal,
          name + " sums the values of \"" + signal + "\", but it is a count signal type; " + usage);
    }
    if (i == 0 && spec->needs_velocity && !def->velocity) {
      return sort_error(e, signal,
                        name + " compares a window with the one before it, so signal type \"" +
                            signal + "\" must be declared with velocity");
    }
    defs.push_back(def);
  }

  // The window: one every role's signal type declares.
  std::string window_text;
  if (spec->window != WindowRule::kNone) {
    std::vector<Duration> common = defs[0]->windows;
    for (size_t i = 1; i < defs.size(); ++i) {
      std::erase_if(common, [&](Duration w) {
        return std::find(defs[i]->windows.begin(), defs[i]->windows.end(), w) ==
               defs[i]->windows.end();
      });
    }
    std::sort(common.begin(), common.end());
    std::string whose = "\"" + defs[0]->name + "\"";
    for (size_t i = 1; i < defs.size(); ++i) whose += " and \"" + defs[i]->name + "\"";
    if (window) {
      if (std::find(common.begin(), common.end(), *window) == common.end()) {
        return sort_error(e, format_duration(*window),
                          "is not a window of " + whose +
                              " (windows they all declare: " + window_list(common) + ")");
      }
    } else if (common.empty()) {
      return sort_error(e, name, "signal types " + whose + " declare no common window");
    } else {
      window = spec->window == WindowRule::kLongest ? common.back() : common.front();
    }
    window_text = format_duration(*window);
  }
  const uint64_t used_seed = given_seed.value_or(seed);

  std::string formula(defs.size() == 1 && defs[0]->value_kind == ValueKind::kSum &&
                              !spec->sum_formula.empty()
                          ? spec->sum_formula
                          : spec->info.formula);
  std::string call = name;
  std::vector<std::string> call_args;
  for (size_t i = 0; i < defs.size(); ++i) {
    formula = replace_all(std::move(formula), "{" + std::to_string(i) + "}", defs[i]->name);
    call_args.push_back(defs[i]->name);
  }
  if (spec->window != WindowRule::kNone) {
    formula = replace_all(std::move(formula), "{w}", window_text);
    call_args.push_back(window_text);
  }
  std::string preferences;
  for (const AttributeDefinition& a : schema.attributes(EntityKind::kItem)) {
    if (a.type == AttributeType::kVector) {
      preferences += " + 0.2 * max(preference(" + a.name + "), 0)";
    }
  }
  formula = replace_all(std::move(formula), "{pref}", preferences);
  if (spec->takes_seed) {
    formula = replace_all(std::move(formula), "{seed}", std::to_string(used_seed));
    call_args.push_back(std::to_string(used_seed));
  }
  if (!call_args.empty()) {
    call += "(";
    for (size_t i = 0; i < call_args.size(); ++i) call += (i ? ", " : "") + call_args[i];
    call += ")";
  }
  Result<Expr> parsed = parse_expression(formula);
  if (!parsed.ok()) {
    return Status::Internal(Subsystem::kQuery, "sort mode " + name + " formula does not parse: " +
                                                   parsed.status().message());
  }
  ResolvedMode out{
      .call = std::move(call), .expr = std::move(*parsed), .ascending = spec->info.ascending};
  if (spec->bound != SortIndex::kNone) {
    out.bound = spec->bound;
    out.bound_signal = defs[0]->id;
    const auto& ws = defs[0]->windows;
    out.bound_window = static_cast<uint8_t>(std::find(ws.begin(), ws.end(), *window) - ws.begin());
  }
  return out;
}

namespace {

constexpr int kMaxProfileNesting = 8;

Status expand_into(Expr& e, const Schema& schema, const ProfileLookup& profiles,
                   const ModeContext& seed, int nesting, std::vector<std::string>& chain) {
  const bool names_mode =
      (e.kind == ExprKind::kIdentifier || e.kind == ExprKind::kCall) && is_sort_mode(e.text);
  if (names_mode) {
    TIDAL_ASSIGN_OR_RETURN(ResolvedMode m, resolve_mode(e, schema, seed));
    e = std::move(m.expr);
    return Status::Ok();
  }
  if (e.kind == ExprKind::kIdentifier && profiles) {
    if (const Expr* body = profiles(e.text)) {
      if (std::find(chain.begin(), chain.end(), e.text) != chain.end()) {
        return sort_error(e, e.text, "profile \"" + e.text + "\" refers to itself");
      }
      if (nesting >= kMaxProfileNesting) {
        return sort_error(e, e.text,
                          "profiles may use other profiles at most " +
                              std::to_string(kMaxProfileNesting) + " levels deep");
      }
      Expr copy = *body;
      chain.push_back(e.text);
      TIDAL_RETURN_IF_ERROR(expand_into(copy, schema, profiles, seed, nesting + 1, chain));
      chain.pop_back();
      e = std::move(copy);
      return Status::Ok();
    }
  }
  // A function's signal-type argument is a name, not a value: leave it; so
  // is a signal feature's scope (cohort = name).
  for (Expr& a : e.args) {
    if (e.kind == ExprKind::kCall && ranking::is_scope_argument(a)) continue;
    if (e.kind == ExprKind::kCall && a.kind == ExprKind::kIdentifier && &a == &e.args[0] &&
        schema.find_signal(a.text) != nullptr) {
      continue;
    }
    TIDAL_RETURN_IF_ERROR(expand_into(a, schema, profiles, seed, nesting, chain));
  }
  return Status::Ok();
}

}  // namespace

Result<Expr> expand_names(const Expr& e, const Schema& schema, const ProfileLookup& profiles,
                          const ModeContext& seed) {
  Expr out = e;
  std::vector<std::string> chain;
  TIDAL_RETURN_IF_ERROR(expand_into(out, schema, profiles, seed, 0, chain));
  return out;
}

}  // namespace tidal::query
