// The aws-chunked upload encoding: a body sent as "<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n"
// chunks ending with a zero-size chunk and optional trailing headers (a checksum, and for signed
// trailers x-amz-trailer-signature). ChunkedReader decodes it as a BodyReader, verifying each
// chunk's signature against the previous one (starting from the request's own signature) when
// the payload is signed, the trailer signature, and the decoded length. Bytes of a chunk reach
// the caller before its signature is checked; a failed check fails the read, so the caller,
// which commits only after reading to the end, never stores unverified bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/hash.h"
#include "protocols/s3/errors.h"
#include "server/http.h"

namespace lakemesh::s3 {

// What chunk signatures are computed from.
struct ChunkSigning {
  std::string signing_key;     // raw SigV4 signing key
  std::string amz_date;        // the request's x-amz-date
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string seed_signature;  // the request's Authorization signature
};

class ChunkedReader final : public server::BodyReader {
 public:
  // `signing` is nullopt for STREAMING-UNSIGNED-PAYLOAD-TRAILER. With `signed_trailer`, a
  // trailer must carry x-amz-trailer-signature. `decoded_length` is x-amz-decoded-content-length.
  ChunkedReader(server::BodyReader& inner, std::optional<ChunkSigning> signing,
                bool signed_trailer, std::optional<uint64_t> decoded_length);

  Result<size_t> Read(char* buf, size_t n) override;
  std::optional<uint64_t> content_length() const override { return decoded_length_; }
  uint64_t bytes_read() const override { return decoded_; }

  // The trailing headers (lowercase names), once the body has been read to its end.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  // Why the last Read failed, in S3's terms.
  const std::optional<S3Error>& error() const { return error_; }

 private:
  enum class State { kHeader, kData, kDataEnd, kTrailer, kDone };
  Status Fail(S3Error e);
  Status Fill();  // reads more from `inner_` into buf_; IncompleteBody at its end
  Result<std::string> ReadLine();
  Status ParseHeader();
  Status CheckChunkSignature();
  Status ParseTrailerLine(const std::string& line, bool* done);

  server::BodyReader& inner_;
  std::optional<ChunkSigning> signing_;
  bool signed_trailer_;
  std::optional<uint64_t> decoded_length_;
  State state_ = State::kHeader;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t chunk_left_ = 0;
  uint64_t decoded_ = 0;
  std::string chunk_signature_;
  std::string prev_signature_;
  std::optional<Hasher> chunk_hash_;
  std::string trailer_text_;  // canonical trailer lines for the trailer signature
  std::string trailer_signature_;
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::optional<S3Error> error_;
};

}  // namespace lakemesh::s3
