#include "support/beir.h"

#include <simdjson.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

#include "support/bench_report.h"

namespace tidal::bench {
namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(Subsystem::kIo, "cannot read " + path, path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status::IoErrorFromErrno(Subsystem::kIo, "read " + path, errno);
  return bytes.str();
}

// Calls `each(line_no, object)` for every non-empty line of the JSON-lines
// file `path`; stops at the first line that is not a JSON object or that
// `each` rejects.
template <typename Each>
Status for_each_json_line(const std::string& path, Each each) {
  TIDAL_ASSIGN_OR_RETURN(std::string text, read_file(path));
  simdjson::dom::parser parser;
  std::istringstream lines(text);
  std::string line;
  size_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    simdjson::dom::object object;
    if (parser.parse(line).get_object().get(object) != simdjson::SUCCESS) {
      return Status::Invalid(Subsystem::kIo, path + " line " + std::to_string(line_no),
                             line.substr(0, 80), "must be a JSON object");
    }
    TIDAL_RETURN_IF_ERROR(each(line_no, object));
  }
  return Status::Ok();
}

// The string field `name` of `object`; a missing field reads as "" when
// `optional`, else fails naming the file, line and field.
Status string_field(const simdjson::dom::object& object, const char* name, bool optional,
                    const std::string& where, std::string* out) {
  std::string_view value;
  simdjson::error_code err = object[name].get_string().get(value);
  if (err == simdjson::NO_SUCH_FIELD && optional) {
    out->clear();
    return Status::Ok();
  }
  if (err != simdjson::SUCCESS) {
    return Status::Invalid(Subsystem::kIo, where + " field " + name, simdjson::error_message(err),
                           "must be a string");
  }
  out->assign(value);
  return Status::Ok();
}

}  // namespace

Result<BeirDataset> load_beir(const std::string& folder) {
  BeirDataset data;
  const std::string corpus = folder + "/corpus.jsonl";
  TIDAL_RETURN_IF_ERROR(
      for_each_json_line(corpus, [&](size_t line_no, const simdjson::dom::object& o) -> Status {
        std::string where = corpus + " line " + std::to_string(line_no);
        BeirDocument doc;
        TIDAL_RETURN_IF_ERROR(string_field(o, "_id", false, where, &doc.id));
        TIDAL_RETURN_IF_ERROR(string_field(o, "title", true, where, &doc.title));
        TIDAL_RETURN_IF_ERROR(string_field(o, "text", false, where, &doc.text));
        data.documents.push_back(std::move(doc));
        return Status::Ok();
      }));

  TIDAL_ASSIGN_OR_RETURN(std::string qrels_text, read_file(folder + "/qrels/test.tsv"));
  Result<Qrels> qrels = parse_qrels_tsv(qrels_text);
  if (!qrels.ok()) return qrels.status().with_context(folder + "/qrels/test.tsv");
  data.qrels = std::move(*qrels);

  std::map<std::string, std::string> texts;  // judged query id -> text
  const std::string queries = folder + "/queries.jsonl";
  TIDAL_RETURN_IF_ERROR(
      for_each_json_line(queries, [&](size_t line_no, const simdjson::dom::object& o) -> Status {
        std::string where = queries + " line " + std::to_string(line_no);
        BeirQuery q;
        TIDAL_RETURN_IF_ERROR(string_field(o, "_id", false, where, &q.id));
        TIDAL_RETURN_IF_ERROR(string_field(o, "text", false, where, &q.text));
        if (data.qrels.count(q.id) > 0) texts[q.id] = std::move(q.text);
        return Status::Ok();
      }));
  for (const auto& [id, judged] : data.qrels) {
    auto it = texts.find(id);
    if (it == texts.end()) {
      return Status::Invalid(Subsystem::kIo, "qrels/test.tsv query-id", id,
                             "must name a query in queries.jsonl");
    }
    data.queries.push_back({id, it->second});
  }
  return data;
}

std::string take_data_flag(std::vector<std::string>* args) {
  return take_flag(args, "--data=", TIDAL_SHARED_DATA_DIR "/beir/scifact");
}

std::string flat_contents(const BeirDocument& doc) {
  return doc.title + " " + doc.text;
}

}  // namespace tidal::bench
