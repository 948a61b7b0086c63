#include "protocols/s3/chunked.h"

#include <cstring>

#include "protocols/s3/sigv4.h"

namespace lakemesh::s3 {
namespace {

constexpr size_t kMaxLine = 8192;
constexpr uint64_t kMaxChunk = 5ull << 30;
constexpr size_t kMaxTrailerBytes = 16384;

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

ChunkedReader::ChunkedReader(server::BodyReader& inner, std::optional<ChunkSigning> signing,
                             bool signed_trailer, std::optional<uint64_t> decoded_length)
    : inner_(inner),
      signing_(std::move(signing)),
      signed_trailer_(signed_trailer),
      decoded_length_(decoded_length) {
  if (signing_) prev_signature_ = signing_->seed_signature;
}

Status ChunkedReader::Fail(S3Error e) {
  Status st = InvalidArgument(e.message);
  error_ = std::move(e);
  state_ = State::kDone;
  return st;
}

Status ChunkedReader::Fill() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + 65536);
  auto n = inner_.Read(buf_.data() + old, 65536);
  if (!n.ok()) {
    buf_.resize(old);
    return Fail(MakeError(400, "IncompleteBody", n.status().message()));
  }
  buf_.resize(old + *n);
  if (*n == 0) {
    return Fail(MakeError(400, "IncompleteBody",
                          "the aws-chunked body ended before its final chunk"));
  }
  return Status::OK();
}

Result<std::string> ChunkedReader::ReadLine() {
  while (true) {
    size_t eol = buf_.find("\r\n", pos_);
    if (eol != std::string::npos) {
      std::string line = buf_.substr(pos_, eol - pos_);
      pos_ = eol + 2;
      return line;
    }
    if (buf_.size() - pos_ > kMaxLine) {
      return Fail(MakeError(400, "InvalidRequest", "a line of the aws-chunked body is too long"));
    }
    LM_TRY(Fill());
  }
}

Status ChunkedReader::ParseHeader() {
  LM_ASSIGN_OR_RETURN(std::string line, ReadLine());
  std::string_view v(line);
  size_t semi = v.find(';');
  std::string_view size_hex = v.substr(0, semi);
  while (!size_hex.empty() && size_hex.back() == ' ') size_hex.remove_suffix(1);
  if (size_hex.empty() || size_hex.size() > 16) {
    return Fail(MakeError(400, "InvalidChunkSizeError", "malformed aws-chunked chunk size"));
  }
  uint64_t size = 0;
  for (char c : size_hex) {
    int d = (c >= '0' && c <= '9') ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return Fail(MakeError(400, "InvalidChunkSizeError", "malformed aws-chunked chunk size"));
    size = size * 16 + static_cast<uint64_t>(d);
  }
  if (size > kMaxChunk) {
    return Fail(MakeError(400, "InvalidChunkSizeError", "an aws-chunked chunk is over 5 GiB"));
  }
  chunk_signature_.clear();
  if (semi != std::string_view::npos) {
    std::string_view ext = v.substr(semi + 1);
    constexpr std::string_view kSig = "chunk-signature=";
    if (ext.substr(0, kSig.size()) == kSig) chunk_signature_ = Trim(ext.substr(kSig.size()));
  }
  if (signing_ && chunk_signature_.empty()) {
    return Fail(MakeError(403, "SignatureDoesNotMatch",
                          "a chunk of a signed aws-chunked body has no chunk-signature"));
  }
  chunk_left_ = size;
  if (signing_) chunk_hash_.emplace(Hasher::Kind::kSha256);
  if (size == 0) {
    LM_TRY(CheckChunkSignature());
    state_ = State::kTrailer;
  } else {
    state_ = State::kData;
  }
  return Status::OK();
}

Status ChunkedReader::CheckChunkSignature() {
  if (!signing_) return Status::OK();
  std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing_->amz_date + "\n" + signing_->scope +
                    "\n" + prev_signature_ + "\n" + std::string(kEmptyPayloadHash) + "\n" +
                    ToHex(chunk_hash_->Finish());
  std::string want = Sign(signing_->signing_key, sts);
  chunk_hash_.reset();
  if (!ConstantTimeEquals(want, chunk_signature_)) {
    return Fail(MakeError(403, "SignatureDoesNotMatch",
                          "the signature of a chunk of the aws-chunked body does not match"));
  }
  prev_signature_ = want;
  return Status::OK();
}

Status ChunkedReader::ParseTrailerLine(const std::string& line, bool* done) {
  *done = false;
  if (line.empty()) {
    *done = true;
    return Status::OK();
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) {
    return Fail(MakeError(400, "MalformedTrailerError", "a trailing header has no ':'"));
  }
  std::string name = Trim(std::string_view(line).substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = Trim(std::string_view(line).substr(colon + 1));
  if (name == "x-amz-trailer-signature") {
    trailer_signature_ = value;
    return Status::OK();
  }
  trailer_text_ += name + ":" + value + "\n";
  if (trailer_text_.size() > kMaxTrailerBytes) {
    return Fail(MakeError(400, "MalformedTrailerError", "the trailing headers are too large"));
  }
  trailers_.emplace_back(std::move(name), std::move(value));
  return Status::OK();
}

Result<size_t> ChunkedReader::Read(char* out, size_t n) {
  if (error_) return InvalidArgument(error_->message);
  while (true) {
    switch (state_) {
      case State::kHeader:
        LM_TRY(ParseHeader());
        continue;
      case State::kData: {
        if (n == 0) return size_t{0};
        if (pos_ == buf_.size()) LM_TRY(Fill());
        size_t take = std::min<uint64_t>({chunk_left_, buf_.size() - pos_, n});
        std::memcpy(out, buf_.data() + pos_, take);
        if (chunk_hash_) chunk_hash_->Update(std::string_view(buf_.data() + pos_, take));
        pos_ += take;
        chunk_left_ -= take;
        decoded_ += take;
        if (decoded_length_ && decoded_ > *decoded_length_) {
          return Fail(MakeError(400, "IncompleteBody",
                                "the aws-chunked body is longer than x-amz-decoded-content-length"));
        }
        if (chunk_left_ == 0) state_ = State::kDataEnd;
        return take;
      }
      case State::kDataEnd: {
        while (buf_.size() - pos_ < 2) LM_TRY(Fill());
        if (buf_.compare(pos_, 2, "\r\n") != 0) {
          return Fail(MakeError(400, "IncompleteBody",
                                "an aws-chunked chunk is longer than its declared size"));
        }
        pos_ += 2;
        LM_TRY(CheckChunkSignature());
        state_ = State::kHeader;
        continue;
      }
      case State::kTrailer: {
        bool done = false;
        while (!done) {
          LM_ASSIGN_OR_RETURN(std::string line, ReadLine());
          LM_TRY(ParseTrailerLine(line, &done));
        }
        if (signed_trailer_ && !trailers_.empty()) {
          if (trailer_signature_.empty()) {
            return Fail(MakeError(403, "SignatureDoesNotMatch",
                                  "the trailing headers carry no x-amz-trailer-signature"));
          }
          std::string sts = "AWS4-HMAC-SHA256-TRAILER\n" + signing_->amz_date + "\n" +
                            signing_->scope + "\n" + prev_signature_ + "\n" +
                            ToHex(Sha256(trailer_text_));
          if (!ConstantTimeEquals(Sign(signing_->signing_key, sts), trailer_signature_)) {
            return Fail(MakeError(403, "SignatureDoesNotMatch",
                                  "the signature of the trailing headers does not match"));
          }
        }
        if (decoded_length_ && decoded_ != *decoded_length_) {
          return Fail(MakeError(400, "IncompleteBody",
                                "the aws-chunked body holds " + std::to_string(decoded_) +
                                    " bytes, not the " + std::to_string(*decoded_length_) +
                                    " of x-amz-decoded-content-length"));
        }
        if (pos_ != buf_.size()) {
          return Fail(MakeError(400, "InvalidRequest", "data follows the end of the aws-chunked body"));
        }
        char extra;
        auto more = inner_.Read(&extra, 1);
        if (!more.ok() || *more != 0) {
          return Fail(MakeError(400, "InvalidRequest", "data follows the end of the aws-chunked body"));
        }
        state_ = State::kDone;
        return size_t{0};
      }
      case State::kDone:
        return size_t{0};
    }
  }
}

}  // namespace lakemesh::s3
