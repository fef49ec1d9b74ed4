// Prepared statements: parsed once, run many times with parameters bound.
#include "db/database_impl.h"
#include "query/bind.h"
#include "query/json.h"
#include "query/parser.h"

namespace tidal {

PreparedStatement::PreparedStatement() = default;
PreparedStatement::~PreparedStatement() = default;
PreparedStatement::PreparedStatement(const PreparedStatement&) = default;
PreparedStatement& PreparedStatement::operator=(const PreparedStatement&) = default;
PreparedStatement::PreparedStatement(std::shared_ptr<const query::Statement> statement)
    : statement_(std::move(statement)) {}

bool PreparedStatement::writes() const {
  return statement_ != nullptr && query::writes(*statement_);
}

std::string_view PreparedStatement::kind() const {
  return statement_ == nullptr ? std::string_view() : query::statement_kind_name(statement_->kind);
}

Result<PreparedStatement> Database::prepare(std::string_view tql) {
  TIDAL_ASSIGN_OR_RETURN(query::Statement s, query::parse(tql));
  return PreparedStatement(std::make_shared<const query::Statement>(std::move(s)));
}

Result<PreparedStatement> Database::prepare_json(std::string_view json) {
  TIDAL_ASSIGN_OR_RETURN(query::Statement s, query::parse_json(json));
  return PreparedStatement(std::make_shared<const query::Statement>(std::move(s)));
}

Result<QueryResult> Database::execute(const PreparedStatement& statement,
                                      const QueryParameters& parameters,
                                      const QueryOptions& options) {
  if (statement.statement_ == nullptr) {
    return Status::Invalid(Subsystem::kQuery, "statement", "empty",
                           "must come from Database::prepare or prepare_json");
  }
  if (!query::has_values(parameters)) return impl_->query(*statement.statement_, options);
  TIDAL_ASSIGN_OR_RETURN(query::Statement bound, query::bind(*statement.statement_, parameters));
  return impl_->query(bound, options);
}

}  // namespace tidal
