#include <gtest/gtest.h>

#include <thread>

#include "base/coding.h"
#include "base/hash.h"
#include "base/lru_cache.h"
#include "base/random.h"
#include "base/status.h"
#include "base/time.h"

namespace lakemesh {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  LM_ASSIGN_OR_RETURN(int h, Half(x));
  LM_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::OK();
}

TEST(Status, PropagatesWithContext) {
  int v = 0;
  EXPECT_TRUE(Quarter(8, &v).ok());
  EXPECT_EQ(v, 2);
  Status s = Quarter(6, &v);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.WithContext("quartering 6").ToString(), "InvalidArgument: quartering 6: odd");
}

TEST(Coding, Base64MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(Base64Encode(plain), enc);
    EXPECT_EQ(Base64Decode(enc), std::string(plain));
  }
  EXPECT_EQ(Base64Decode("Zm9vYg"), std::string("foob"));  // padding optional
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
  EXPECT_FALSE(Base64Decode(std::string_view("Zm\0v", 4)).has_value());
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(Base64Decode(Base64Encode(all)), all);
}

TEST(Coding, ByteSizes) {
  EXPECT_EQ(ParseByteSize("4GB"), 4000000000u);
  EXPECT_EQ(ParseByteSize("512 MiB"), 512u << 20);
  EXPECT_EQ(ParseByteSize("19.1 GiB"), static_cast<uint64_t>(19.1 * 1073741824.0 + 0.5));
  EXPECT_EQ(ParseByteSize(" 1000 "), 1000u);
  EXPECT_EQ(ParseByteSize("0"), 0u);
  EXPECT_EQ(ParseByteSize("2kb"), 2000u);
  EXPECT_FALSE(ParseByteSize("GB"));
  EXPECT_FALSE(ParseByteSize("4 parsecs"));
  EXPECT_FALSE(ParseByteSize("-1GB"));
  EXPECT_FALSE(ParseByteSize("99999999999 TiB"));
}

TEST(Coding, VarintRoundTripAndTruncation) {
  std::string buf;
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, ~0ULL}) PutVarint64(&buf, v);
  PutVarintSigned(&buf, -5);
  PutLengthPrefixed(&buf, "hello");
  Decoder d(buf);
  for (uint64_t want : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, ~0ULL}) {
    uint64_t got;
    ASSERT_TRUE(d.GetVarint64(&got));
    EXPECT_EQ(got, want);
  }
  int64_t sv;
  ASSERT_TRUE(d.GetVarintSigned(&sv));
  EXPECT_EQ(sv, -5);
  std::string_view s;
  ASSERT_TRUE(d.GetLengthPrefixed(&s));
  EXPECT_EQ(s, "hello");
  EXPECT_TRUE(d.empty());
  // A length that runs past the end fails instead of reading out of bounds.
  std::string bad;
  PutVarint64(&bad, 100);
  bad += "abc";
  Decoder d2(bad);
  EXPECT_FALSE(d2.GetLengthPrefixed(&s));
}

TEST(Hash, KnownDigests) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(ToHex(HmacSha256("key", "The quick brown fox jumps over the lazy dog")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  // RFC 4231 test cases 1 and 6: a 20-byte key, and a key longer than the block, hashed first.
  EXPECT_EQ(ToHex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(ToHex(HmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The block-size boundary: a 64-byte key is used as is, a 65-byte key is hashed.
  EXPECT_EQ(ToHex(HmacSha256(std::string(64, 'k'), "")),
            "83026a325aaee70e36cfe607536aa1054104ad1077c36134810d4ccded1ccd3b");
  EXPECT_EQ(ToHex(HmacSha256(std::string(65, 'k'), "x")),
            "75092ca3ee2b307470c227697b42b3e65376aa3bae98fb5a1f7b7536daa9588a");
  EXPECT_EQ(FromHex("0aFf").value(), std::string("\x0a\xff", 2));
  EXPECT_FALSE(FromHex("0g").has_value());
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_NE(Hash64("a", 1), Hash64("a", 2));
}

TEST(Time, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(ParseRfc3339("2026-11-01T00:00:00Z").value(), 1793491200LL * 1000000);
  EXPECT_EQ(ParseRfc3339("2026-11-01").value(), 1793491200LL * 1000000);
  EXPECT_EQ(ParseRfc3339("2026-11-01T01:00:00+01:00").value(), 1793491200LL * 1000000);
  EXPECT_EQ(ParseRfc3339("2026-11-01T00:00:00.5Z").value(), 1793491200LL * 1000000 + 500000);
  int64_t now = NowMicros();
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(now)).value(), now);
  EXPECT_FALSE(ParseRfc3339("2026-13-01").has_value());
  EXPECT_FALSE(ParseRfc3339("yesterday").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-01T00:00:00Zjunk").has_value());
}

TEST(Random, Shapes) {
  EXPECT_EQ(RandomHex(8).size(), 16u);
  std::string u = NewUuid();
  EXPECT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(RandomAlnum(20), RandomAlnum(20));
}

TEST(Time, HttpDatesRoundTrip) {
  // RFC 9110's example date, and the days and months around it.
  EXPECT_EQ(FormatHttpDate(784111777LL * 1000000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(1798761599LL * 1000000 + 999999), "Thu, 31 Dec 2026 23:59:59 GMT");
  for (int64_t secs : {0LL, 784111777LL, 1764000000LL, 1798761599LL, 4102444800LL}) {
    EXPECT_EQ(ParseHttpDate(FormatHttpDate(secs * 1000000)), secs * 1000000) << secs;
  }
}

TEST(Random, FastRandomDiffersAcrossCallsAndThreads) {
  uint64_t a = FastRandom64(), b = FastRandom64();
  EXPECT_NE(a, b);
  uint64_t other = 0;
  std::thread t([&] { other = FastRandom64(); });
  t.join();
  EXPECT_NE(other, a);
  EXPECT_NE(other, b);
}

TEST(LruCache, EvictsLeastRecentlyUsedPastTheBudget) {
  LruCache<int> c(10);
  c.Put("a", std::make_shared<int>(1), 4);
  c.Put("b", std::make_shared<int>(2), 4);
  ASSERT_NE(c.Get("a"), nullptr);  // a is now the most recent
  c.Put("c", std::make_shared<int>(3), 4);
  EXPECT_EQ(c.Get("b"), nullptr);
  EXPECT_EQ(*c.Get("a"), 1);
  EXPECT_EQ(*c.Get("c"), 3);
  EXPECT_EQ(c.used_bytes(), 8u);
  // An entry larger than the budget is kept alone.
  c.Put("big", std::make_shared<int>(4), 100);
  EXPECT_EQ(c.Get("a"), nullptr);
  EXPECT_EQ(*c.Get("big"), 4);
}

TEST(LruCache, EraseInvalidatesReadsThatBeganBefore) {
  LruCache<int> c(100);
  uint64_t g = c.Generation();
  c.PutIfUnchanged("k", std::make_shared<int>(1), 1, g);
  EXPECT_EQ(*c.Get("k"), 1);
  // A reader takes the generation, a writer changes the source and erases, then the reader
  // tries to fill the cache with what it read before the change: refused.
  uint64_t before = c.Generation();
  c.Erase("k");
  c.PutIfUnchanged("k", std::make_shared<int>(1), 1, before);
  EXPECT_EQ(c.Get("k"), nullptr);
  // A read that began after the change is cached, and replaces an older value.
  c.PutIfUnchanged("k", std::make_shared<int>(2), 1, c.Generation());
  c.PutIfUnchanged("k", std::make_shared<int>(3), 5, c.Generation());
  EXPECT_EQ(*c.Get("k"), 3);
  EXPECT_EQ(c.used_bytes(), 5u);
  uint64_t g2 = c.Generation();
  c.Clear();
  EXPECT_EQ(c.Get("k"), nullptr);
  EXPECT_EQ(c.used_bytes(), 0u);
  c.PutIfUnchanged("k", std::make_shared<int>(4), 1, g2);
  EXPECT_EQ(c.Get("k"), nullptr);
}

}  // namespace
}  // namespace lakemesh
