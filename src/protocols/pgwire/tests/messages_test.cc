#include "protocols/pgwire/messages.h"

#include <gtest/gtest.h>

namespace lakemesh::pgwire {
namespace {

using Elements = std::vector<std::optional<std::string>>;

TEST(PgArrays, TextFormParsesAsArrayOutWritesIt) {
  auto a = ParseArrayText(R"({1,NULL,"","null","b c","q\"x","b\\s","{x}",plain})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (Elements{"1", std::nullopt, "", "null", "b c", "q\"x", "b\\s", "{x}", "plain"}));
  EXPECT_EQ(*ParseArrayText("{}"), Elements{});
  for (const char* bad : {"", "{", "1,2", "{1,,2}", "{\"open}", "{{1,2},{3,4}}", "{a\"b}", "{1,}"}) {
    EXPECT_FALSE(ParseArrayText(bad).ok()) << bad;
  }
}

TEST(PgArrays, BinaryFormIsArraySend) {
  EXPECT_EQ(ArrayOid(23), 1007u);
  EXPECT_EQ(ArrayElementOid(1009), 25u);
  EXPECT_EQ(ArrayOid(600), 0u);
  auto b = TextToBinary(1007, "{7,NULL}");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const std::string expected(
      "\0\0\0\1"              // one dimension
      "\0\0\0\1"              // has nulls
      "\0\0\0\x17"            // int4
      "\0\0\0\2\0\0\0\1"      // 2 elements from index 1
      "\0\0\0\4\0\0\0\7"      // 7
      "\xff\xff\xff\xff",     // NULL
      32);
  EXPECT_EQ(*b, expected);
  auto empty = TextToBinary(1009, "{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, std::string("\0\0\0\0\0\0\0\0\0\0\0\x19", 12));
  EXPECT_FALSE(TextToBinary(1007, "{x}").ok());  // not an int4
  EXPECT_FALSE(TextToBinary(1007, "[1, 2]").ok());
}

}  // namespace
}  // namespace lakemesh::pgwire
