#include "table/value.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lakemesh::table {
namespace {

using Json = nlohmann::json;

Literal Of(const char* type, const Json& v) {
  auto t = ParsePrimitiveType(type);
  EXPECT_TRUE(t.ok()) << type;
  auto l = FromJson(*t, v);
  EXPECT_TRUE(l.ok()) << type << " " << v.dump() << ": " << l.status().ToString();
  return l.ok() ? *l : Literal();
}

TEST(Value, ParsesEveryPrimitiveTypeName) {
  for (const char* n : {"boolean", "int", "long", "float", "double", "decimal(9,2)", "date",
                        "time", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns",
                        "string", "uuid", "fixed[16]", "binary"}) {
    auto t = ParsePrimitiveType(n);
    ASSERT_TRUE(t.ok()) << n;
    EXPECT_EQ(TypeName(*t), n);
  }
  EXPECT_EQ(ParsePrimitiveType("decimal(10, 2)")->scale, 2);
  for (const char* n : {"decimal(39,2)", "decimal(2,3)", "fixed[0]", "varchar", "struct"}) {
    EXPECT_FALSE(ParsePrimitiveType(n).ok()) << n;
  }
}

// The test values of the table spec's Appendix B.
TEST(Value, HashesMatchTheSpecsTestVectors) {
  EXPECT_EQ(Hash(Of("int", 34)), 2017239379);
  EXPECT_EQ(Hash(Of("long", 34)), 2017239379);
  EXPECT_EQ(Hash(Of("decimal(4,2)", "14.20")), -500754589);
  EXPECT_EQ(Hash(Of("date", "2017-11-16")), -653330422);
  EXPECT_EQ(Hash(Of("time", "22:31:08")), -662762989);
  EXPECT_EQ(Hash(Of("timestamp", "2017-11-16T22:31:08")), -2047944441);
  EXPECT_EQ(Hash(Of("timestamp", "2017-11-16T22:31:08.000001")), -1207196810);
  EXPECT_EQ(Hash(Of("timestamptz", "2017-11-16T14:31:08-08:00")), -2047944441);
  EXPECT_EQ(Hash(Of("timestamptz", "2017-11-16T14:31:08.000001-08:00")), -1207196810);
  EXPECT_EQ(Hash(Of("timestamp_ns", "2017-11-16T22:31:08.000001001")), -1207196810);
  EXPECT_EQ(Hash(Of("string", "iceberg")), 1210000089);
  EXPECT_EQ(Hash(Of("uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7")), 1488055340);
  EXPECT_EQ(Hash(Of("fixed[4]", "00010203")), -188683207);
  EXPECT_EQ(Hash(Of("binary", "00010203")), -188683207);
  EXPECT_EQ(Hash(Of("boolean", true)), 1392991556);
  EXPECT_EQ(Hash(Of("float", 1.0)), -142385009);
  EXPECT_EQ(Hash(Of("double", 0.0)), 1669671676);
  EXPECT_EQ(Hash(Of("double", -0.0)), 1669671676);
}

TEST(Value, SingleValueBytesRoundTrip) {
  std::vector<std::pair<const char*, Json>> cases = {
      {"boolean", true},          {"int", -7},
      {"long", 1LL << 40},        {"float", 1.5},
      {"double", -2.25},          {"decimal(9,2)", "-14.20"},
      {"decimal(38,0)", "99999999999999999999999999999999999999"},
      {"date", "1969-12-31"},     {"time", "22:31:08.123456"},
      {"timestamp", "2017-11-16T22:31:08.123456"},
      {"timestamptz", "2017-11-16T22:31:08.123456+00:00"},
      {"timestamp_ns", "2017-11-16T22:31:08.123456789"},
      {"string", "héllo"},         {"uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7"},
      {"fixed[3]", "0a0b0c"},      {"binary", ""},
  };
  for (const auto& [type, v] : cases) {
    Literal l = Of(type, v);
    auto back = FromBytes(l.type, ToBytes(l));
    ASSERT_TRUE(back.ok()) << type;
    EXPECT_EQ(Compare(*back, l), 0) << type;
    EXPECT_EQ(ToJson(*back), v) << type;
  }
  // Appendix D: int is 4 bytes little-endian, decimals the fewest big-endian bytes.
  EXPECT_EQ(ToBytes(Of("int", 1)), std::string("\1\0\0\0", 4));
  EXPECT_EQ(ToBytes(Of("decimal(9,2)", "-0.01")), std::string("\xff", 1));
  EXPECT_EQ(ToBytes(Of("decimal(9,2)", "1.28")), std::string("\x00\x80", 2));
  EXPECT_FALSE(FromBytes(*ParsePrimitiveType("int"), "abc").ok());
  // A long column promoted from int keeps 4-byte bounds.
  EXPECT_EQ(FromBytes(*ParsePrimitiveType("long"), std::string("\5\0\0\0", 4))->i, 5);
}

TEST(Value, RejectsValuesOfTheWrongType) {
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("int"), "x").ok());
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("int"), 1LL << 40).ok());
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("date"), "2017-13-01").ok());
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("decimal(9,2)"), "1.234").ok());
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("timestamp"), "2017-11-16T22:31:08+00:00").ok());
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("timestamptz"), "2017-11-16T22:31:08").ok());
  EXPECT_FALSE(FromJson(*ParsePrimitiveType("uuid"), "not-a-uuid").ok());
}

TEST(Value, OrdersFloatsAndBytesAsTheSpecSays) {
  EXPECT_LT(Compare(Of("double", -0.0), Of("double", 0.0)), 0);
  Literal nan = Of("double", 1.0);
  nan.d = std::nan("");
  EXPECT_GT(Compare(nan, Of("double", 1e300)), 0);
  EXPECT_LT(Compare(Of("string", "a"), Of("string", "ab")), 0);
  EXPECT_LT(Compare(Of("string", "z"), Of("string", "é")), 0);  // UTF-8 byte order
  EXPECT_LT(Compare(Of("decimal(9,2)", "-1.00"), Of("decimal(9,2)", "0.50")), 0);
}

TEST(Value, Transforms) {
  auto apply = [](const char* t, const Literal& v) {
    auto r = Apply(ParseTransform(t), v);
    EXPECT_TRUE(r.ok() && r->has_value()) << t;
    return r.ok() && r->has_value() ? **r : Literal();
  };
  Literal ts = Of("timestamp", "2017-11-16T22:31:08");
  EXPECT_EQ(apply("year", ts).i, 47);
  EXPECT_EQ(apply("month", ts).i, 47 * 12 + 10);
  EXPECT_EQ(apply("day", ts).i, 17486);
  EXPECT_EQ(apply("day", ts).type.id, TypeId::kDate);
  EXPECT_EQ(apply("hour", ts).i, 17486 * 24 + 22);
  // Before the epoch, floor and not truncation toward zero.
  Literal before = Of("timestamp", "1969-12-31T23:59:59");
  EXPECT_EQ(apply("day", before).i, -1);
  EXPECT_EQ(apply("hour", before).i, -1);
  EXPECT_EQ(apply("month", before).i, -1);
  EXPECT_EQ(apply("year", Of("date", "1969-01-01")).i, -1);
  EXPECT_EQ(apply("year", Of("timestamp_ns", "2017-11-16T22:31:08.000000001")).i, 47);
  // Truncate, with the spec's examples.
  EXPECT_EQ(apply("truncate[10]", Of("int", 1)).i, 0);
  EXPECT_EQ(apply("truncate[10]", Of("int", -1)).i, -10);
  EXPECT_EQ(ToJson(apply("truncate[50]", Of("decimal(9,2)", "10.65"))), "10.50");
  EXPECT_EQ(apply("truncate[3]", Of("string", "iceberg")).s, "ice");
  EXPECT_EQ(apply("truncate[2]", Of("string", "éàü")).s, "éà");  // code points, not bytes
  EXPECT_EQ(apply("truncate[3]", Of("binary", "0102030405")).s, std::string("\1\2\3"));
  // Bucket: (hash & MAX_INT) % N.
  EXPECT_EQ(apply("bucket[16]", Of("int", 34)).i, (2017239379 & 0x7fffffff) % 16);
  EXPECT_EQ(apply("bucket[100]", Of("string", "iceberg")).i, 1210000089 % 100);
  EXPECT_FALSE(ResultType(ParseTransform("hour"), *ParsePrimitiveType("date")).ok());
  EXPECT_FALSE(ResultType(ParseTransform("bucket[4]"), *ParsePrimitiveType("double")).ok());
  EXPECT_EQ(ParseTransform("zorder").kind, Transform::kUnknown);
  EXPECT_EQ(ParseTransform("bucket[0]").kind, Transform::kUnknown);
  auto v = Apply(ParseTransform("void"), Of("int", 3));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

TEST(Value, CastsLiteralsToColumnTypes) {
  auto cast = [](const Literal& v, const char* t) { return CastTo(v, *ParsePrimitiveType(t)); };
  EXPECT_EQ(cast(Literal::Int(5), "long")->i, 5);
  EXPECT_EQ(ToJson(*cast(Literal::Int(5), "decimal(9,2)")), "5.00");
  EXPECT_EQ(cast(Of("date", "1970-01-02"), "timestamp")->i, 86400LL * 1000000);
  EXPECT_EQ(cast(Literal::String("1970-01-02"), "date")->i, 1);
  EXPECT_FALSE(cast(Literal::Long(1LL << 40), "int").ok());
  EXPECT_FALSE(cast(Literal::Int(1), "string").ok());
}

}  // namespace
}  // namespace lakemesh::table
