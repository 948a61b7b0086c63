#include "versioning/object_upload.h"

namespace lakemesh::versioning {

ObjectUpload::ObjectUpload(std::unique_ptr<storage::BlobWriter> writer, bool md5, bool sha256)
    : writer_(std::move(writer)) {
  if (md5) md5_.emplace(Hasher::Kind::kMd5);
  if (sha256) sha_.emplace(Hasher::Kind::kSha256);
}

Status ObjectUpload::Append(std::string_view data) {
  if (digests_) return Internal("append to a finished upload");
  if (md5_) md5_->Update(data);
  if (sha_) sha_->Update(data);
  return writer_->Append(data);
}

const ObjectUpload::Digests& ObjectUpload::Finish() {
  if (!digests_) {
    Digests d;
    if (md5_) d.md5_hex = ToHex(md5_->Finish());
    if (sha_) d.sha256_hex = ToHex(sha_->Finish());
    digests_ = std::move(d);
  }
  return *digests_;
}

}  // namespace lakemesh::versioning
