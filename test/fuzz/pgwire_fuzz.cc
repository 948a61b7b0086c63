// What a PostgreSQL client sends comes straight from the network: the startup packet, the typed
// messages of the simple and extended protocols, binary parameters, SCRAM messages, and the
// query text the statement splitter reads. The first byte picks the decoder.
#include <cstdint>
#include <string>

#include "protocols/pgwire/messages.h"
#include "protocols/pgwire/scram.h"
#include "sql/statements.h"

using namespace lakemesh;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (which % 12) {
    case 0: pgwire::ParseStartup(in).status().IgnoreError(); break;
    case 1: pgwire::ParseQuery(in).status().IgnoreError(); break;
    case 2: pgwire::ParseParse(in).status().IgnoreError(); break;
    case 3: pgwire::ParseBind(in).status().IgnoreError(); break;
    case 4: pgwire::ParseDescribe(in).status().IgnoreError(); break;
    case 5: pgwire::ParseExecute(in).status().IgnoreError(); break;
    case 6: pgwire::ParseClose(in).status().IgnoreError(); break;
    case 7: pgwire::ParseSaslInitial(in).status().IgnoreError(); break;
    case 8: {
      static const uint32_t kOids[] = {16, 21, 23, 20, 26, 700, 701, 25, 17, 1082, 1114,
                                       1184, 2950, 1700, 1083, 0};
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
      }
      break;
    default: {
      pgwire::MessageWriter w;
      pgwire::ErrorFields e;
      e.message = std::string(in);
      pgwire::WriteError(w, e);
      break;
    }
  }
  return 0;
}
