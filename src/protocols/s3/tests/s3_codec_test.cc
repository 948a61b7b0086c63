// The S3 codecs: aws-chunked decoding (against the AWS documentation's streaming example),
// upload checksums (the CRC catalogue's check values) and the XML request parsers.
#include <gtest/gtest.h>

#include <cstring>

#include "base/coding.h"
#include "base/hash.h"
#include "protocols/s3/checksum.h"
#include "protocols/s3/chunked.h"
#include "protocols/s3/sigv4.h"
#include "protocols/s3/xml.h"

namespace lakemesh::s3 {
namespace {

class StringBody final : public server::BodyReader {
 public:
  explicit StringBody(std::string s, size_t step = 7) : s_(std::move(s)), step_(step) {}
  Result<size_t> Read(char* buf, size_t n) override {
    n = std::min({n, s_.size() - pos_, step_});
    std::memcpy(buf, s_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::optional<uint64_t> content_length() const override { return s_.size(); }
  uint64_t bytes_read() const override { return pos_; }

 private:
  std::string s_;
  size_t pos_ = 0;
  size_t step_;
};

Result<std::string> ReadAllOf(ChunkedReader& r) {
  std::string out;
  char buf[4096];
  while (true) {
    LM_ASSIGN_OR_RETURN(size_t n, r.Read(buf, sizeof(buf)));
    if (n == 0) return out;
    out.append(buf, n);
  }
}

// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html: a PUT of 66560 bytes of 'a' in
// a 65536-byte and a 1024-byte chunk.
ChunkSigning AwsExampleSigning() {
  CredentialScope scope{"AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3"};
  return ChunkSigning{SigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", scope),
                      "20130524T000000Z", scope.Scope(),
                      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};
}

std::string AwsExampleBody(const std::string& final_sig =
                               "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9") {
  return "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
         std::string(65536, 'a') +
         "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
         std::string(1024, 'a') + "\r\n0;chunk-signature=" + final_sig + "\r\n\r\n";
}

TEST(ChunkedReader, VerifiesTheAwsDocumentationExample) {
  StringBody raw(AwsExampleBody(), 1000);
  ChunkedReader r(raw, AwsExampleSigning(), false, 66560);
  auto data = ReadAllOf(r);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, std::string(66560, 'a'));
  EXPECT_EQ(r.bytes_read(), 66560u);
}

TEST(ChunkedReader, RejectsABadChunkSignature) {
  StringBody raw(AwsExampleBody(std::string(64, '0')), 1000);
  ChunkedReader r(raw, AwsExampleSigning(), false, 66560);
  EXPECT_FALSE(ReadAllOf(r).ok());
  ASSERT_TRUE(r.error().has_value());
  EXPECT_EQ(r.error()->code, "SignatureDoesNotMatch");
}

TEST(ChunkedReader, RejectsAlteredData) {
  std::string body = AwsExampleBody();
  body[200] = 'b';  // inside the first chunk's data
  StringBody raw(body, 1000);
  ChunkedReader r(raw, AwsExampleSigning(), false, 66560);
  EXPECT_FALSE(ReadAllOf(r).ok());
  EXPECT_EQ(r.error()->code, "SignatureDoesNotMatch");
}

TEST(ChunkedReader, UnsignedWithTrailer) {
  StringBody raw("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n");
  ChunkedReader r(raw, std::nullopt, false, 11);
  auto data = ReadAllOf(r);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello world");
  ASSERT_EQ(r.trailers().size(), 1u);
  EXPECT_EQ(r.trailers()[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(r.trailers()[0].second, "DUoRhQ==");
}

TEST(ChunkedReader, MalformedBodiesFailWithS3Errors) {
  struct Case {
    const char* body;
    const char* code;
  } cases[] = {
      {"5\r\nhel", "IncompleteBody"},                       // ends inside a chunk
      {"zz\r\nhello\r\n0\r\n\r\n", "InvalidChunkSizeError"},  // not hex
      {"5\r\nhelloXX0\r\n\r\n", "IncompleteBody"},           // chunk longer than declared
      {"5\r\nhello\r\n0\r\n\r\nextra", "InvalidRequest"},    // data after the end
      {"3\r\nhel\r\n0\r\n\r\n", "IncompleteBody"},          // shorter than the decoded length
      {"5\r\nhello\r\n0\r\nno colon\r\n\r\n", "MalformedTrailerError"},
      {"fffffffffffffffff\r\n", "InvalidChunkSizeError"},    // too many digits
  };
  for (const auto& c : cases) {
    StringBody raw(c.body);
    ChunkedReader r(raw, std::nullopt, false, 5);
    EXPECT_FALSE(ReadAllOf(r).ok()) << c.body;
    ASSERT_TRUE(r.error().has_value()) << c.body;
    EXPECT_EQ(r.error()->code, c.code) << c.body;
  }
}

TEST(ChunkedReader, SignedModeRequiresSignatures) {
  StringBody raw("5\r\nhello\r\n0\r\n\r\n");
  ChunkedReader r(raw, AwsExampleSigning(), false, 5);
  EXPECT_FALSE(ReadAllOf(r).ok());
  EXPECT_EQ(r.error()->code, "SignatureDoesNotMatch");
}

std::string ChecksumOf(ChecksumAlgorithm a, std::string_view data) {
  Checksum c(a);
  c.Update(data.substr(0, 3));
  c.Update(data.substr(3));
  return ToHex(*Base64Decode(c.FinishBase64()));
}

TEST(Checksum, CatalogueCheckValues) {
  EXPECT_EQ(ChecksumOf(ChecksumAlgorithm::kCrc32, "123456789"), "cbf43926");
  EXPECT_EQ(ChecksumOf(ChecksumAlgorithm::kCrc32c, "123456789"), "e3069283");
  EXPECT_EQ(ChecksumOf(ChecksumAlgorithm::kCrc64Nvme, "123456789"), "ae8b14860a799888");
  EXPECT_EQ(ChecksumOf(ChecksumAlgorithm::kSha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(ChecksumOf(ChecksumAlgorithm::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ParseChecksumAlgorithm("CRC32C"), ChecksumAlgorithm::kCrc32c);
  EXPECT_FALSE(ParseChecksumAlgorithm("md5").has_value());
}

TEST(Xml, DeleteRequest) {
  auto r = ParseDeleteRequest(
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
      "<Object><Key>a &amp; b</Key></Object><Object><Key>c</Key><VersionId>null</VersionId>"
      "</Object></Delete>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->quiet);
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].key, "a & b");
  EXPECT_EQ(r->objects[1].version_id, "null");
  EXPECT_FALSE(ParseDeleteRequest("<Delete><Object></Object></Delete>").ok());
  EXPECT_FALSE(ParseDeleteRequest("<Delete>").ok());
  EXPECT_FALSE(ParseDeleteRequest("<Other/>").ok());
  EXPECT_FALSE(ParseDeleteRequest("<Delete></Delete>").ok());
  std::string many = "<Delete>";
  for (int i = 0; i < 1001; ++i) many += "<Object><Key>k</Key></Object>";
  EXPECT_FALSE(ParseDeleteRequest(many + "</Delete>").ok());
}

TEST(Xml, CompleteMultipartUpload) {
  auto r = ParseCompleteMultipartUpload(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"abc\"</ETag></Part>"
      "<Part><ETag>&quot;def&quot;</ETag><PartNumber>2</PartNumber></Part>"
      "</CompleteMultipartUpload>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].number, 1);
  EXPECT_EQ((*r)[0].etag, "abc");
  EXPECT_EQ((*r)[1].etag, "def");
  EXPECT_FALSE(ParseCompleteMultipartUpload(
                   "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part>"
                   "</CompleteMultipartUpload>")
                   .ok());
  EXPECT_FALSE(ParseCompleteMultipartUpload(
                   "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
                   "</CompleteMultipartUpload>")
                   .ok());
}

TEST(Xml, CreateBucketConfigurationAndEscaping) {
  EXPECT_EQ(*ParseCreateBucketConfiguration(""), "");
  EXPECT_EQ(*ParseCreateBucketConfiguration(
                "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
                "</CreateBucketConfiguration>"),
            "eu-west-1");
  XmlWriter w("R");
  w.Element("Key", "a<b>&\"c'\r");
  EXPECT_NE(w.Finish().find("<Key>a&lt;b&gt;&amp;&quot;c&apos;&#13;</Key>"), std::string::npos);
}

}  // namespace
}  // namespace lakemesh::s3
