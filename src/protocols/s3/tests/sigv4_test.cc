// Signature Version 4 against AWS's published vectors: the SigV4 test suite (get-vanilla and
// friends, credentials AKIDEXAMPLE) and the S3 documentation's GetObject example.
#include "protocols/s3/sigv4.h"

#include <gtest/gtest.h>

namespace lakemesh::s3 {
namespace {

constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kSuiteDate[] = "20150830T123600Z";

Authorization SuiteAuth() {
  return Authorization{{"AKIDEXAMPLE", "20150830", "us-east-1", "service"},
                       {"host", "x-amz-date"},
                       ""};
}

SignedRequest SuiteRequest(std::string method, std::string path,
                           std::vector<std::pair<std::string, std::string>> query = {}) {
  return SignedRequest{std::move(method), std::move(path), std::move(query),
                       {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}},
                       std::string(kEmptyPayloadHash)};
}

TEST(SigV4, TestSuiteGetVanilla) {
  auto req = SuiteRequest("GET", "/");
  EXPECT_EQ(*CanonicalRequest(req, SuiteAuth().signed_headers),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(*ComputeSignature(req, SuiteAuth(), kSuiteDate, kSuiteSecret),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, TestSuitePostVanilla) {
  EXPECT_EQ(*ComputeSignature(SuiteRequest("POST", "/"), SuiteAuth(), kSuiteDate, kSuiteSecret),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, TestSuiteQueryOrderKeyCase) {
  auto req = SuiteRequest("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}});
  EXPECT_EQ(*ComputeSignature(req, SuiteAuth(), kSuiteDate, kSuiteSecret),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, S3DocumentationGetObject) {
  SignedRequest req{"GET",
                    "/test.txt",
                    {},
                    {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", std::string(kEmptyPayloadHash)},
                     {"x-amz-date", "20130524T000000Z"}},
                    std::string(kEmptyPayloadHash)};
  auto auth = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  auto canonical = CanonicalRequest(req, auth->signed_headers);
  ASSERT_TRUE(canonical.ok());
  std::string sts = StringToSign("20130524T000000Z", auth->credential, *canonical);
  EXPECT_EQ(sts.substr(sts.rfind('\n') + 1),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(*ComputeSignature(req, *auth, "20130524T000000Z",
                              "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            auth->signature);
}

TEST(SigV4, CanonicalFormsOfPathsQueriesAndHeaders) {
  SignedRequest req{"PUT",
                    "/bucket/a%20b/c!d.csv",
                    {{"prefix", "x/y z"}, {"a", ""}, {"X-Amz-Signature", "ignored"}},
                    {{"Host", "h"}, {"X-Amz-Meta-Note", "  two   spaces  "}, {"x-amz-meta-note", "b"}},
                    "UNSIGNED-PAYLOAD"};
  auto c = CanonicalRequest(req, {"host", "x-amz-meta-note"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c,
            "PUT\n/bucket/a%20b/c%21d.csv\na=&prefix=x%2Fy%20z\nhost:h\n"
            "x-amz-meta-note:two spaces,b\n\nhost;x-amz-meta-note\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(CanonicalRequest(req, {"host", "x-missing"}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(SigV4, MalformedAuthorizationHeaders) {
  for (const char* bad : {
           "", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
           "AWS4-HMAC-SHA256",
           "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request",
           "AWS4-HMAC-SHA256 Credential=AKID/2015/us-east-1/s3/aws4_request, SignedHeaders=host, "
           "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
           "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, "
           "SignedHeaders=x-amz-date, "
           "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
           "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, "
           "SignedHeaders=host, Signature=XYZ",
       }) {
    EXPECT_EQ(ParseAuthorization(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseAuthorization("AWS AKID:sig").status().message().find("Version 2"),
            std::string::npos);
}

}  // namespace
}  // namespace lakemesh::s3
