#include "csv_reader.h"

namespace tidal::cli {

int CsvReader::get() {
  int c;
  if (pushed_ != -2) {
    c = pushed_;
    pushed_ = -2;
  } else {
    c = std::getc(file_);
  }
  if (c == EOF) return c;
  ++bytes_;
  if (c == '\n') {
    ++line_;
    column_ = 0;
  } else {
    ++column_;
  }
  return c;
}

void CsvReader::unget(int c) {
  if (c == EOF) return;
  pushed_ = c;
  --bytes_;
  if (c == '\n') {
    --line_;
  } else {
    --column_;
  }
}

void CsvReader::skip_line() {
  for (int c = get(); c != EOF && c != '\n'; c = get()) {
  }
}

bool CsvReader::next(std::vector<std::string>* fields, Status* error) {
  *error = Status::Ok();
  fields->clear();
  // Skip blank lines.
  int c = get();
  while (c == '\n' || c == '\r') c = get();
  if (c == EOF) return false;
  unget(c);
  record_line_ = line_;
  auto fail = [&](size_t column, const std::string& rule) {
    *error = Status(Subsystem::kCore, StatusCode::kInvalidArgument,
                    "column " + std::to_string(column) + ": " + rule);
    return true;
  };
  std::string field;
  while (true) {
    c = get();
    if (c == '"' && field.empty()) {
      size_t open_line = line_, open_column = column_;
      while (true) {
        c = get();
        if (c == EOF) {
          return fail(open_column, "the quoted field opened on line " + std::to_string(open_line) +
                                       " is not closed before the end of the file");
        }
        if (c == '"') {
          int d = get();
          if (d == '"') {
            field += '"';
            continue;
          }
          unget(d);
          break;
        }
        field += static_cast<char>(c);
      }
      c = get();
      if (c == '\r') {
        int d = get();
        if (d != '\n') unget(d);
        c = d == '\n' ? '\n' : '\r';
      }
      if (c != ',' && c != '\n' && c != EOF) {
        size_t column = column_;
        if (c != '\n') skip_line();
        return fail(column,
                    "a closing quote must end the field (write \"\" for a quote inside it)");
      }
    } else {
      while (c != ',' && c != '\n' && c != EOF) {
        if (c == '"') {
          size_t column = column_;
          skip_line();
          return fail(column,
                      "a quote inside an unquoted field (quote the whole field and write \"\")");
        }
        if (c == '\r') {
          int d = get();
          if (d == '\n' || d == EOF) {
            c = d;
            break;
          }
          unget(d);
        }
        field += static_cast<char>(c);
        c = get();
      }
    }
    fields->push_back(std::move(field));
    field.clear();
    if (c != ',') return true;  // '\n' or the end of the file
  }
}

}  // namespace tidal::cli
