// One function per API operation. Registered, with their routes, in one list in api.cc.
#pragma once

#include "protocols/api/api.h"

namespace lakemesh::api::handlers {

using server::Request;
using server::Response;
using P = governance::Principal;

Response ListRepos(Services&, Request&, const P&);
Response CreateRepo(Services&, Request&, const P&);
Response GetRepo(Services&, Request&, const P&);
Response DeleteRepo(Services&, Request&, const P&);

Response ListBranches(Services&, Request&, const P&);
Response CreateBranch(Services&, Request&, const P&);
Response GetBranch(Services&, Request&, const P&);
Response DeleteBranch(Services&, Request&, const P&);
Response ResetBranch(Services&, Request&, const P&);
Response CommitBranch(Services&, Request&, const P&);
Response BranchChanges(Services&, Request&, const P&);
Response RevertCommit(Services&, Request&, const P&);

Response ListTags(Services&, Request&, const P&);
Response CreateTag(Services&, Request&, const P&);
Response GetTag(Services&, Request&, const P&);
Response DeleteTag(Services&, Request&, const P&);

Response ResolveRef(Services&, Request&, const P&);
Response LogCommits(Services&, Request&, const P&);
Response DiffRefs(Services&, Request&, const P&);
Response MergeRefs(Services&, Request&, const P&);

Response GetObject(Services&, Request&, const P&);
Response StatObject(Services&, Request&, const P&);
Response ListObjects(Services&, Request&, const P&);
Response PutObject(Services&, Request&, const P&);
Response DeleteObject(Services&, Request&, const P&);

Response AppendToTable(Services&, Request&, const P&);
Response DeleteFromTable(Services&, Request&, const P&);
Response UpdateTable(Services&, Request&, const P&);
Response ReadTableRows(Services&, Request&, const P&);

Response ListProducts(Services&, Request&, const P&);
Response GetProduct(Services&, Request&, const P&);
Response ValidateProduct(Services&, Request&, const P&);
Response ProductTemplate(Services&, Request&, const P&);
Response ProductChanges(Services&, Request&, const P&);
Response CheckProduct(Services&, Request&, const P&);
Response PublishProduct(Services&, Request&, const P&);
Response DeprecateProduct(Services&, Request&, const P&);
Response ProductHistory(Services&, Request&, const P&);
Response Search(Services&, Request&, const P&);

Response ListKeys(Services&, Request&, const P&);
Response CreateKey(Services&, Request&, const P&);
Response RevokeKey(Services&, Request&, const P&);
Response CreateToken(Services&, Request&, const P&);
Response WhoAmI(Services&, Request&, const P&);
Response CollectGarbage(Services&, Request&, const P&);

}  // namespace lakemesh::api::handlers
