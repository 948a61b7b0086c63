// The Trino protocol's codecs: type names and signatures, the JSON encoding of values, error
// objects, and the dialect helpers (header pairs, `?` parameters, durations, LIKE, SHOW tails).
#include <gtest/gtest.h>

#include "protocols/trino/dialect.h"
#include "protocols/trino/types.h"

namespace lakemesh::trino {
namespace {

using sql::ColumnType;
using sql::ResultColumn;

ResultColumn Decimal(int p, int s) {
  ResultColumn c("d", ColumnType::kNumeric);
  c.precision = p;
  c.scale = s;
  return c;
}

ResultColumn Nested(ResultColumn::Nested kind, std::vector<ResultColumn> children) {
  ResultColumn c("n", ColumnType::kOther);
  c.nested = kind;
  c.children = std::move(children);
  return c;
}

std::string Encode(const ResultColumn& c, std::optional<std::string_view> v) {
  std::string out;
  AppendValue(c, v, &out);
  return out;
}

TEST(TrinoTypes, Names) {
  EXPECT_EQ(TypeName(ResultColumn("x", ColumnType::kInt64)), "bigint");
  EXPECT_EQ(TypeName(ResultColumn("x", ColumnType::kFloat32)), "real");
  EXPECT_EQ(TypeName(Decimal(10, 2)), "decimal(10,2)");
  ResultColumn ts("t", ColumnType::kTimestamptz);
  ts.precision = 6;
  EXPECT_EQ(TypeName(ts), "timestamp(6) with time zone");
  EXPECT_EQ(TypeName(ResultColumn("i", ColumnType::kInterval)), "varchar");
  auto row = Nested(ResultColumn::Nested::kStruct,
                    {ResultColumn("a", ColumnType::kInt32),
                     Nested(ResultColumn::Nested::kList, {ResultColumn("element", ColumnType::kText)})});
  row.children[1].name = "b";
  EXPECT_EQ(TypeName(row), "row(a integer, b array(varchar))");
  auto map = Nested(ResultColumn::Nested::kMap,
                    {ResultColumn("key", ColumnType::kText), Decimal(3, 1)});
  EXPECT_EQ(TypeName(map), "map(varchar, decimal(3,1))");
}

TEST(TrinoTypes, Signatures) {
  EXPECT_EQ(TypeSignature(ResultColumn("v", ColumnType::kText)).dump(),
            R"({"arguments":[{"kind":"LONG","value":2147483647}],"rawType":"varchar"})");
  EXPECT_EQ(TypeSignature(Decimal(9, 2)).dump(),
            R"({"arguments":[{"kind":"LONG","value":9},{"kind":"LONG","value":2}],"rawType":"decimal"})");
  auto list = Nested(ResultColumn::Nested::kList, {ResultColumn("element", ColumnType::kBool)});
  EXPECT_EQ(TypeSignature(list).dump(),
            R"({"arguments":[{"kind":"TYPE","value":{"arguments":[],"rawType":"boolean"}}],"rawType":"array"})");
  auto row = Nested(ResultColumn::Nested::kStruct, {ResultColumn("f", ColumnType::kInt16)});
  EXPECT_EQ(TypeSignature(row)["arguments"][0]["value"]["fieldName"]["name"], "f");
}

TEST(TrinoTypes, Values) {
  EXPECT_EQ(Encode(ResultColumn("b", ColumnType::kBool), "t"), "true");
  EXPECT_EQ(Encode(ResultColumn("b", ColumnType::kBool), "f"), "false");
  EXPECT_EQ(Encode(ResultColumn("b", ColumnType::kBool), std::nullopt), "null");
  EXPECT_EQ(Encode(ResultColumn("i", ColumnType::kInt64), "-42"), "-42");
  EXPECT_EQ(Encode(ResultColumn("f", ColumnType::kFloat64), "nan"), "\"NaN\"");
  EXPECT_EQ(Encode(ResultColumn("f", ColumnType::kFloat64), "-inf"), "\"-Infinity\"");
  EXPECT_EQ(Encode(ResultColumn("f", ColumnType::kFloat64), "1e+20"), "1e+20");
  EXPECT_EQ(Encode(Decimal(5, 2), "12.30"), "\"12.30\"");
  EXPECT_EQ(Encode(ResultColumn("s", ColumnType::kText), "a\"b\\\n\x01"), "\"a\\\"b\\\\\\n\\u0001\"");
  EXPECT_EQ(Encode(ResultColumn("x", ColumnType::kBytes), "\\x00ff10"), "\"AP8Q\"");
  ResultColumn time("t", ColumnType::kTime);
  time.precision = 3;
  EXPECT_EQ(Encode(time, "10:11:12.5"), "\"10:11:12.500\"");
  ResultColumn ts("t", ColumnType::kTimestamp);
  ts.precision = 6;
  EXPECT_EQ(Encode(ts, "2026-11-01 10:00:00"), "\"2026-11-01 10:00:00.000000\"");
  ts.precision = 0;
  EXPECT_EQ(Encode(ts, "2026-11-01 10:00:00.25"), "\"2026-11-01 10:00:00\"");
  ResultColumn tz("t", ColumnType::kTimestamptz);
  tz.precision = 6;
  EXPECT_EQ(Encode(tz, "2026-11-01 10:00:00.25+00"), "\"2026-11-01 10:00:00.250000 UTC\"");
  EXPECT_EQ(Encode(tz, "infinity"), "\"infinity\"");
  // Nested values come as DuckDB's JSON: rows become arrays, decimals strings, order kept.
  auto row = Nested(ResultColumn::Nested::kStruct,
                    {ResultColumn("z", ColumnType::kInt32), Decimal(3, 1)});
  row.children[1].name = "a";
  EXPECT_EQ(Encode(row, R"({"z":1,"a":2.5})"), R"([1,"2.5"])");
  EXPECT_EQ(Encode(row, R"({"z":null})"), R"([null,null])");
  auto list = Nested(ResultColumn::Nested::kList, {ResultColumn("e", ColumnType::kInt32)});
  EXPECT_EQ(Encode(list, "[1,null,3]"), "[1,null,3]");  // passed through as it is
  EXPECT_EQ(Encode(row, "not json"), "\"not json\"");
}

TEST(TrinoTypes, Errors) {
  sql::SqlError e{"42601", "syntax error at or near \"FROM\"", 12};
  auto j = ErrorJson(e, "SELECT 1,\n  FROM t");
  EXPECT_EQ(j["errorName"], "SYNTAX_ERROR");
  EXPECT_EQ(j["errorCode"], 1);
  EXPECT_EQ(j["errorType"], "USER_ERROR");
  EXPECT_EQ(j["errorLocation"]["lineNumber"], 2);
  EXPECT_EQ(j["errorLocation"]["columnNumber"], 3);
  EXPECT_EQ(j["failureInfo"]["errorLocation"], j["errorLocation"]);
  EXPECT_EQ(std::string(ErrorFor({"42P01", "x"}).name), "TABLE_NOT_FOUND");
  EXPECT_EQ(std::string(ErrorFor({"57014", "canceling statement due to statement timeout"}).name),
            "EXCEEDED_TIME_LIMIT");
  EXPECT_EQ(ErrorFor({"XX000", "boom"}).code, 65536);
  EXPECT_EQ(NamedError("CATALOG_NOT_FOUND").code, 44);
  auto named = ErrorJson({"", "Catalog 'x' not found"}, "SELECT 1", NamedError("CATALOG_NOT_FOUND"));
  EXPECT_EQ(named["errorName"], "CATALOG_NOT_FOUND");
  EXPECT_FALSE(named.contains("errorLocation"));
}

TEST(TrinoDialect, Pairs) {
  auto p = ParsePairs("a=1, lakemesh.ref=my%20branch,bad,=x,q=SELECT+%3F");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], std::make_pair(std::string("a"), std::string("1")));
  EXPECT_EQ(p[1].second, "my branch");
  EXPECT_EQ(p[2].second, "SELECT ?");
  EXPECT_EQ(EncodePair("q", "SELECT ?, 'a,b'"), "q=SELECT%20%3F%2C%20%27a%2Cb%27");
  EXPECT_EQ(ParsePairs(EncodePair("q", "SELECT ?, 'a,b'"))[0].second, "SELECT ?, 'a,b'");
  EXPECT_TRUE(ParsePairs("").empty());
}

TEST(TrinoDialect, Parameters) {
  EXPECT_EQ(CountParameters("SELECT ? FROM t WHERE a = '?' AND b = ? -- ?"), 2u);
  auto bound = BindParameters("SELECT ? + ?, '?' /* ? */", {"1", "x.y"});
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(*bound, "SELECT (1) + (x.y), '?' /* ? */");
  EXPECT_FALSE(BindParameters("SELECT ?", {}).ok());
  EXPECT_FALSE(BindParameters("SELECT 1", {"2"}).ok());
}

TEST(TrinoDialect, Durations) {
  EXPECT_EQ(ParseDuration("10s"), 10000);
  EXPECT_EQ(ParseDuration("1.5m"), 90000);
  EXPECT_EQ(ParseDuration("250ms"), 250);
  EXPECT_EQ(ParseDuration("2 h"), 7200000);
  EXPECT_EQ(ParseDuration("100.00d"), 8640000000LL);
  EXPECT_FALSE(ParseDuration("10").has_value());
  EXPECT_FALSE(ParseDuration("-1s").has_value());
  EXPECT_FALSE(ParseDuration("xs").has_value());
  EXPECT_FALSE(ParseDuration("1e300d").has_value());
}

TEST(TrinoDialect, LiteralsAndLike) {
  EXPECT_EQ(StringLiteral(" 'it''s' "), "it's");
  EXPECT_EQ(StringLiteral("''"), "");
  EXPECT_FALSE(StringLiteral("'a' || 'b'").has_value());
  EXPECT_FALSE(StringLiteral("abc").has_value());
  EXPECT_TRUE(Like("sales", "s%"));
  EXPECT_TRUE(Like("sales", "%l_s"));
  EXPECT_FALSE(Like("sales", "s_"));
  EXPECT_TRUE(Like("a_b", "a\\_b", '\\'));
  EXPECT_FALSE(Like("axb", "a\\_b", '\\'));
  EXPECT_TRUE(Like("", "%"));
  EXPECT_TRUE(Like("abcabc", "%abc"));
}

TEST(TrinoDialect, ShowTail) {
  auto t = ParseShowTail(" FROM lakemesh.sales LIKE 'o%' ");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->from, (std::vector<std::string>{"lakemesh", "sales"}));
  EXPECT_EQ(t->like, "o%");
  t = ParseShowTail("IN crm LIKE 'a\\_%' ESCAPE '\\'");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->escape, '\\');
  EXPECT_TRUE(ParseShowTail("").ok());
  EXPECT_FALSE(ParseShowTail("LIKE x").ok());
  EXPECT_FALSE(ParseShowTail("FROM a b").ok());
  EXPECT_FALSE(ParseShowTail("LIKE 'unterminated").ok());
}

}  // namespace
}  // namespace lakemesh::trino
