#include "cli/commands.h"
#include "cli/output.h"

namespace lakemesh::cli {

void AddBranch(CLI::App& app, Cli& cli) {
  auto* br = app.add_subcommand("branch", "Create, list, show and delete branches");
  br->require_subcommand(1);

  struct Args {
    std::string repo, name, from;
  };
  auto a = std::make_shared<Args>();
  auto* create = br->add_subcommand("create", "Create a branch from a ref");
  create->add_option("repo", a->repo, "repository")->required();
  create->add_option("name", a->name, "new branch name")->required();
  create->add_option("--from", a->from, "branch, tag, commit or ref expression (default: the "
                                         "repository's default branch)");
  create->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"name", a->name}};
      if (!a->from.empty()) body["source"] = a->from;
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", "/api/v1/repositories/" + Seg(a->repo) +
                                                     "/branches", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("created branch %s at %s\n", a->name.c_str(),
                    ShortId(r["head"].get<std::string>()).c_str());
      }
      return Status::OK();
    };
  });

  auto* list = br->add_subcommand("list", "List branches");
  list->add_option("repo", a->repo, "repository")->required();
  list->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto all, c.ListAll("/api/v1/repositories/" + Seg(a->repo) + "/branches"));
      if (cli.json) {
        PrintJson(all);
        return Status::OK();
      }
      Table t({"BRANCH", "HEAD"});
      for (const auto& b : all) t.Row({b["name"], ShortId(b["head"])});
      t.Print();
      return Status::OK();
    };
  });

  auto* show = br->add_subcommand("show", "Show a branch's head commit");
  show->add_option("repo", a->repo, "repository")->required();
  show->add_option("name", a->name, "branch")->required();
  show->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/repositories/" + Seg(a->repo) +
                                                     "/branches/" + Seg(a->name)));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("%s  %s\n", r["name"].get<std::string>().c_str(),
                    r["head"].get<std::string>().c_str());
      }
      return Status::OK();
    };
  });

  auto* del = br->add_subcommand("delete", "Delete a branch and its uncommitted changes");
  del->add_option("repo", a->repo, "repository")->required();
  del->add_option("name", a->name, "branch")->required();
  del->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_TRY(c.Call("DELETE", "/api/v1/repositories/" + Seg(a->repo) + "/branches/" +
                                  Seg(a->name)).status());
      if (!cli.json) std::printf("deleted branch %s\n", a->name.c_str());
      return Status::OK();
    };
  });
}

void AddTag(CLI::App& app, Cli& cli) {
  auto* tag = app.add_subcommand("tag", "Create, list, show and delete tags");
  tag->require_subcommand(1);
  struct Args {
    std::string repo, name, ref;
  };
  auto a = std::make_shared<Args>();
  auto* create = tag->add_subcommand("create", "Tag a commit");
  create->add_option("repo", a->repo, "repository")->required();
  create->add_option("name", a->name, "tag name")->required();
  create->add_option("ref", a->ref, "branch, tag, commit or ref expression")->required();
  create->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"name", a->name}, {"ref", a->ref}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", "/api/v1/repositories/" + Seg(a->repo) +
                                                     "/tags", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("created tag %s at %s\n", a->name.c_str(),
                    ShortId(r["commit"].get<std::string>()).c_str());
      }
      return Status::OK();
    };
  });
  auto* list = tag->add_subcommand("list", "List tags");
  list->add_option("repo", a->repo, "repository")->required();
  list->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto all, c.ListAll("/api/v1/repositories/" + Seg(a->repo) + "/tags"));
      if (cli.json) {
        PrintJson(all);
        return Status::OK();
      }
      Table t({"TAG", "COMMIT"});
      for (const auto& x : all) t.Row({x["name"], ShortId(x["commit"])});
      t.Print();
      return Status::OK();
    };
  });
  auto* show = tag->add_subcommand("show", "Show the commit a tag points at");
  show->add_option("repo", a->repo, "repository")->required();
  show->add_option("name", a->name, "tag")->required();
  show->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/repositories/" + Seg(a->repo) +
                                                     "/tags/" + Seg(a->name)));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("%s  %s\n", r["name"].get<std::string>().c_str(),
                    r["commit"].get<std::string>().c_str());
      }
      return Status::OK();
    };
  });
  auto* del = tag->add_subcommand("delete", "Delete a tag");
  del->add_option("repo", a->repo, "repository")->required();
  del->add_option("name", a->name, "tag")->required();
  del->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_TRY(c.Call("DELETE", "/api/v1/repositories/" + Seg(a->repo) + "/tags/" + Seg(a->name))
                 .status());
      if (!cli.json) std::printf("deleted tag %s\n", a->name.c_str());
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
