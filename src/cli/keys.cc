#include "cli/commands.h"
#include "cli/output.h"

namespace lakemesh::cli {

void AddKeys(CLI::App& app, Cli& cli) {
  auto* keys = app.add_subcommand("keys", "Manage access keys");
  keys->require_subcommand(1);
  struct Args {
    std::string owner, description, id;
  };
  auto a = std::make_shared<Args>();

  auto* create = keys->add_subcommand("create", "Create an access key (the secret is shown once)");
  create->add_option("--owner", a->owner, "principal the key acts as (default: you)");
  create->add_option("--description", a->description, "what the key is for");
  create->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"owner", a->owner}, {"description", a->description}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", "/api/v1/auth/keys", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("access key for %s (the secret is shown only now):\n"
                    "  LAKEMESH_ACCESS_KEY_ID=%s\n  LAKEMESH_SECRET_ACCESS_KEY=%s\n",
                    r["owner"].get<std::string>().c_str(),
                    r["access_key_id"].get<std::string>().c_str(),
                    r["secret_access_key"].get<std::string>().c_str());
      }
      return Status::OK();
    };
  });

  auto* list = keys->add_subcommand("list", "List access keys (without secrets)");
  list->callback([&cli] {
    cli.action = [&cli]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/auth/keys"));
      if (cli.json) {
        PrintJson(r["results"]);
        return Status::OK();
      }
      Table t({"ACCESS KEY ID", "OWNER", "CREATED", "DESCRIPTION"});
      for (const auto& k : r["results"]) {
        t.Row({k["access_key_id"], k["owner"], k["created"], k["description"]});
      }
      t.Print();
      return Status::OK();
    };
  });

  auto* revoke = keys->add_subcommand("revoke", "Revoke an access key at once");
  revoke->add_option("id", a->id, "access key id")->required();
  revoke->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_TRY(c.Call("DELETE", "/api/v1/auth/keys/" + Seg(a->id)).status());
      if (!cli.json) std::printf("revoked %s\n", a->id.c_str());
      return Status::OK();
    };
  });
}

void AddGc(CLI::App& app, Cli& cli) {
  struct Args {
    std::string retention = "7d", grace = "1h";
    bool dry_run = false;
  };
  auto a = std::make_shared<Args>();
  auto* gc = app.add_subcommand(
      "gc", "Delete blobs no branch, tag, recent commit or uncommitted change refers to");
  gc->add_option("--retention", a->retention,
                 "keep everything reachable from commits younger than this (e.g. 7d, 12h)")
      ->capture_default_str();
  gc->add_option("--grace", a->grace, "never delete blobs written more recently than this")
      ->capture_default_str();
  gc->add_flag("--dry-run", a->dry_run, "report what would be deleted, delete nothing");
  gc->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(int64_t retention, ParseDuration(a->retention));
      LM_ASSIGN_OR_RETURN(int64_t grace, ParseDuration(a->grace));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"retention_seconds", retention},
                          {"grace_seconds", grace},
                          {"dry_run", a->dry_run}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", "/api/v1/gc", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("%s %zu of %zu blobs (%s); %zu live; %zu commits kept\n",
                    a->dry_run ? "would delete" : "deleted", r["blobs_deleted"].get<size_t>(),
                    r["blobs_scanned"].get<size_t>(), HumanBytes(r["bytes_deleted"]).c_str(),
                    r["blobs_live"].get<size_t>(), r["commits_kept"].get<size_t>());
      }
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
