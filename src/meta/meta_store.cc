#include "meta/meta_store.h"

namespace lakemesh::meta {

void MetaStore::WriteAsync(std::function<Status(MetaTxn&)> fn, std::function<void(Status)> done) {
  done(Write(fn));
}

Result<std::optional<std::string>> MetaStore::Get(std::string_view key) {
  std::optional<std::string> out;
  LM_TRY(Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(out, txn.Get(key));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<KeyValue>> MetaStore::Scan(std::string_view start, std::string_view end,
                                              size_t limit) {
  std::vector<KeyValue> out;
  LM_TRY(Read([&](MetaTxn& txn) -> Status {
    LM_ASSIGN_OR_RETURN(out, txn.Scan(start, end, limit));
    return Status::OK();
  }));
  return out;
}

Status MetaStore::Put(std::string_view key, std::string_view value) {
  return Write([&](MetaTxn& txn) { return txn.Put(key, value); });
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto c = static_cast<unsigned char>(end.back());
    if (c != 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace lakemesh::meta
