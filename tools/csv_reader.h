// CsvReader: the records of a CSV file (RFC 4180), read as a stream.
//
// Fields are separated by ',' and records by '\n' or "\r\n". A field in
// double quotes may hold ',', line breaks and quotes written twice ("").
// A record that breaks the rules (text after a closing quote, a quote inside
// an unquoted field, a quoted field still open at the end of the file) is
// reported as an error naming its line and column, and reading goes on at
// the next line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tidal/status.h"

namespace tidal::cli {

class CsvReader {
 public:
  // `file` must stay open while the reader is in use; the reader does not
  // close it.
  explicit CsvReader(std::FILE* file) : file_(file) {}

  // Reads the next record into *fields. Returns false at the end of the
  // file. On a malformed record returns true with *error set (kInvalidArgument,
  // "column C: <rule>") and *fields unspecified. Blank lines are skipped.
  bool next(std::vector<std::string>* fields, Status* error);

  // The line the record last returned by next() starts on (from 1).
  size_t line() const { return record_line_; }
  // Bytes consumed so far.
  uint64_t bytes() const { return bytes_; }

 private:
  int get();
  void unget(int c);
  // Skips to the end of the current line (after an error).
  void skip_line();

  std::FILE* file_;
  size_t line_ = 1;
  size_t record_line_ = 0;
  size_t column_ = 0;  // of the character last read, from 1
  uint64_t bytes_ = 0;
  int pushed_ = -2;  // a character read ahead, or -2
};

}  // namespace tidal::cli
