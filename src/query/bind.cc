#include "query/bind.h"

namespace tidal::query {

bool has_values(const QueryParameters& p) {
  return !p.vector.empty() || p.user || p.key || p.cursor;
}

Result<Statement> bind(const Statement& statement, const QueryParameters& p) {
  Statement out = statement;
  if (!p.vector.empty()) out.vector.assign(p.vector.begin(), p.vector.end());
  if (p.user) out.user = *p.user;
  if (p.key) out.key = *p.key;
  if (p.cursor) out.cursor = *p.cursor;
  TIDAL_RETURN_IF_ERROR(validate(out));
  return out;
}

}  // namespace tidal::query
