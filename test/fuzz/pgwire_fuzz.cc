// What a PostgreSQL client sends comes straight from the network: the startup packet, the typed
// messages of the simple and extended protocols, binary parameters, SCRAM messages, and the
// query text the statement splitter reads, and the rows of COPY FROM STDIN. The first byte picks
// the decoder. Also what query text becomes: to_char formats.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocols/pgwire/messages.h"
#include "protocols/pgwire/scram.h"
#include "sql/pg_catalog.h"
#include "sql/statements.h"

using namespace lakemesh;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (which % 13) {
    case 0: pgwire::ParseStartup(in).status().IgnoreError(); break;
    case 1: pgwire::ParseQuery(in).status().IgnoreError(); break;
    case 2: pgwire::ParseParse(in).status().IgnoreError(); break;
    case 3: pgwire::ParseBind(in).status().IgnoreError(); break;
    case 4: pgwire::ParseDescribe(in).status().IgnoreError(); break;
    case 5: pgwire::ParseExecute(in).status().IgnoreError(); break;
    case 6: pgwire::ParseClose(in).status().IgnoreError(); break;
    case 7: pgwire::ParseSaslInitial(in).status().IgnoreError(); break;
    case 8: {
      static const uint32_t kOids[] = {16,   21,   23,   20,   26,   700,  701,  25,   17,
                                       1082, 1114, 1184, 2950, 1700, 1083, 0,    1007, 1009,
                                       1231, 1115, 1000, 1001};
      uint32_t oid = kOids[(which / 12) % (sizeof(kOids) / sizeof(kOids[0]))];
      pgwire::BinaryParamToText(oid, in).status().IgnoreError();
      pgwire::TextToBinary(oid, in).status().IgnoreError();
      break;
    }
    case 9: {
      pgwire::ScramServer s;
      size_t cut = in.find('\n');
      auto first = s.Start(in.substr(0, cut));
      if (first.ok() && cut != std::string_view::npos) {
        s.Finish(in.substr(cut + 1), std::string("secret")).status().IgnoreError();
      }
      break;
    }
    case 10:
      for (const auto& st : sql::SplitStatements(in)) {
        sql::LeadingKeywords(st, 2);
        sql::AfterKeywords(st, 2);
        // Parameters bound into a statement's text: as many values as it uses, one of them
        // the statement itself (quotes and all), so none can leave its literal; bound, no $n
        // remains ($0 is an error).
        size_t n = sql::CountParameters(st);
        if (n > 64) continue;
        std::vector<std::optional<std::string>> values(n, std::string(st));
        if (n > 1) values[1].reset();
        std::string error;
        std::string bound = sql::BindParameters(st, values, {}, &error);
        if (error.empty() && sql::CountParameters(bound) != 0) __builtin_trap();
      }
      break;
    case 11: {
      // COPY FROM STDIN: the statement; a line of its text format as CSV; and values written
      // by COPY TO STDOUT (fields of the input split at \x01, \x02 alone is NULL) read back the
      // same through that CSV.
      sql::ParseCopyFromStdin(in);
      sql::CopyFromStdin copy;
      std::string csv;
      sql::CopyTextLineToCsv(copy, in.substr(0, in.find('\n')), &csv);
      std::vector<std::optional<std::string_view>> values;
      for (size_t start = 0;;) {
        size_t end = in.find('\x01', start);
        std::string_view v = in.substr(start, end == std::string_view::npos ? end : end - start);
        values.push_back(v == "\x02" ? std::nullopt : std::optional<std::string_view>(v));
        if (end == std::string_view::npos) break;
        start = end + 1;
      }
      std::string line = sql::FormatCopyRow(sql::CopyToStdout{}, values);
      csv.clear();
      sql::CopyTextLineToCsv(copy, std::string_view(line).substr(0, line.size() - 1), &csv);
      std::vector<std::optional<std::string>> back;
      for (size_t p = 0; p < csv.size();) {
        std::optional<std::string> v;
        if (csv[p] == '"') {
          v.emplace();
          for (++p; p < csv.size(); ++p) {
            if (csv[p] == '"' && p + 1 < csv.size() && csv[p + 1] == '"') {
              v->push_back('"');
              ++p;
            } else if (csv[p] == '"') {
              ++p;
              break;
            } else {
              v->push_back(csv[p]);
            }
          }
        }
        back.push_back(std::move(v));
        if (p >= csv.size() || (csv[p] != ',' && csv[p] != '\n')) __builtin_trap();
        ++p;
      }
      if (back.size() != values.size()) __builtin_trap();
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i].has_value() != back[i].has_value()) __builtin_trap();
        if (values[i] && *values[i] != *back[i]) __builtin_trap();
      }
      break;
    }
    default: {
      pgwire::MessageWriter w;
      pgwire::ErrorFields e;
      e.message = std::string(in);
      pgwire::WriteError(w, e);
      // An array literal as PostgreSQL writes it, read as DuckDB's list text: any text, no
      // crash, and a list comes out of an array.
      if (auto list = sql::PgArrayAsListText(in); list && !in.empty() && in[0] == '{') {
        if (list->empty() || list->front() != '[' || list->back() != ']') __builtin_trap();
      }
      // A to_char format from a query: whatever it holds stays inside the literals of the
      // SQL it becomes (their quotes pair up).
      if (auto sql = sql::PgToCharSql(in)) {
        size_t quotes = 0;
        for (char c : *sql) quotes += c == '\'';
        if (quotes % 2 != 0) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
