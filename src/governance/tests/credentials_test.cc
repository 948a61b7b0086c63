#include "governance/credentials.h"

#include <gtest/gtest.h>

#include "meta/sqlite_meta_store.h"

namespace lakemesh::governance {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    meta_ = std::move(*meta::SqliteMetaStore::Open(":memory:"));
    creds_ = std::make_unique<Credentials>(*meta_);
  }
  std::unique_ptr<meta::MetaStore> meta_;
  std::unique_ptr<Credentials> creds_;
};

TEST_F(CredentialsTest, BootstrapGeneratesOnceThenNever) {
  auto first = creds_->Bootstrap("", "");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->id.size(), 20u);
  EXPECT_EQ((*first)->id.substr(0, 2), "LM");
  EXPECT_EQ((*first)->secret.size(), 40u);
  auto second = creds_->Bootstrap("", "");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
}

TEST_F(CredentialsTest, BootstrapFromEnvironment) {
  auto k = creds_->Bootstrap("AKTEST", "secret-1234");
  ASSERT_TRUE(k.ok());
  ASSERT_TRUE(k->has_value());
  EXPECT_TRUE(creds_->VerifySecret("AKTEST", "secret-1234").ok());
  EXPECT_FALSE(creds_->Bootstrap("AKTEST", "secret-1234")->has_value());
  EXPECT_EQ(creds_->Bootstrap("AKTEST", "other-secret").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(creds_->Bootstrap("AKTEST", "").status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(CredentialsTest, VerifyAndRevoke) {
  auto a = creds_->CreateKey("alice", "laptop");
  auto b = creds_->CreateKey("bob", "");
  ASSERT_TRUE(a.ok() && b.ok());
  auto p = creds_->VerifySecret(a->id, a->secret);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "alice");
  EXPECT_EQ(creds_->VerifySecret(a->id, b->secret).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(creds_->VerifySecret("nope", "x").status().code(), ErrorCode::kUnauthenticated);
  auto list = creds_->ListKeys();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[0].secret.empty());
  ASSERT_TRUE(creds_->RevokeKey(a->id).ok());
  EXPECT_EQ(creds_->VerifySecret(a->id, a->secret).status().code(), ErrorCode::kUnauthenticated);
  // The last key cannot be revoked: that would lock everyone out.
  EXPECT_EQ(creds_->RevokeKey(b->id).code(), ErrorCode::kPreconditionFailed);
  EXPECT_EQ(creds_->RevokeKey("nope").code(), ErrorCode::kNotFound);
}

TEST_F(CredentialsTest, TokensExpireAndDieWithTheirKey) {
  auto a = creds_->CreateKey("alice", "");
  auto b = creds_->CreateKey("bob", "");
  Principal alice{"alice", a->id};
  auto t = creds_->IssueToken(alice, 3600LL * 1000000);
  ASSERT_TRUE(t.ok());
  auto who = creds_->VerifyToken(t->token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "alice");
  EXPECT_EQ(creds_->VerifyToken("lmt_bogus").status().code(), ErrorCode::kUnauthenticated);
  auto expired = creds_->IssueToken(alice, 1);
  usleep(2000);
  EXPECT_EQ(creds_->VerifyToken(expired->token).status().code(), ErrorCode::kUnauthenticated);
  ASSERT_TRUE(creds_->RevokeKey(a->id).ok());
  EXPECT_EQ(creds_->VerifyToken(t->token).status().code(), ErrorCode::kUnauthenticated);
}

TEST_F(CredentialsTest, RejectsMalformedKeys) {
  EXPECT_EQ(creds_->CreateKey("x", "", "bad id", "secret-1234").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(creds_->CreateKey("x", "", "GOODID", "short").status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakemesh::governance
