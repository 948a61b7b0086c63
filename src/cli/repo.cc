#include "cli/commands.h"
#include "cli/output.h"

namespace lakemesh::cli {

void AddRepo(CLI::App& app, Cli& cli) {
  auto* repo = app.add_subcommand("repo", "Create, list, show and delete repositories");
  repo->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto branch = std::make_shared<std::string>("main");
  auto* create = repo->add_subcommand("create", "Create a repository (a domain)");
  create->add_option("name", *name, "repository name: 3-63 of a-z, 0-9, '-'")->required();
  create->add_option("--default-branch", *branch, "name of the first branch")
      ->capture_default_str();
  create->callback([&cli, name, branch] {
    cli.action = [&cli, name, branch]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"name", *name}, {"default_branch", *branch}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", "/api/v1/repositories", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("created repository %s (default branch %s)\n", name->c_str(),
                    branch->c_str());
      }
      return Status::OK();
    };
  });

  auto* list = repo->add_subcommand("list", "List repositories");
  list->callback([&cli] {
    cli.action = [&cli]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto all, c.ListAll("/api/v1/repositories"));
      if (cli.json) {
        PrintJson(all);
        return Status::OK();
      }
      Table t({"NAME", "DEFAULT BRANCH", "CREATED", "CREATOR"});
      for (const auto& r : all) {
        t.Row({r["name"], r["default_branch"], r["created"], r["creator"]});
      }
      t.Print();
      return Status::OK();
    };
  });

  auto show_name = std::make_shared<std::string>();
  auto* show = repo->add_subcommand("show", "Show a repository");
  show->add_option("name", *show_name, "repository")->required();
  show->callback([&cli, show_name] {
    cli.action = [&cli, show_name]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", "/api/v1/repositories/" + Seg(*show_name)));
      if (cli.json) {
        PrintJson(r);
        return Status::OK();
      }
      std::printf("name            %s\ndefault branch  %s\ncreated         %s\ncreator         %s\n",
                  r["name"].get<std::string>().c_str(),
                  r["default_branch"].get<std::string>().c_str(),
                  r["created"].get<std::string>().c_str(), r["creator"].get<std::string>().c_str());
      return Status::OK();
    };
  });

  auto del_name = std::make_shared<std::string>();
  auto yes = std::make_shared<bool>(false);
  auto* del = repo->add_subcommand("delete", "Delete a repository with all its history");
  del->add_option("name", *del_name, "repository")->required();
  del->add_flag("-y,--yes", *yes, "do not ask for confirmation");
  del->callback([&cli, del_name, yes] {
    cli.action = [&cli, del_name, yes]() -> Status {
      if (!*yes) {
        if (!isatty(STDIN_FILENO)) {
          return InvalidArgument("deleting a repository needs --yes when not on a terminal");
        }
        std::fprintf(stderr, "Delete repository '%s' and all its history? Type its name: ",
                     del_name->c_str());
        char buf[256] = {0};
        if (!std::fgets(buf, sizeof(buf), stdin)) return InvalidArgument("aborted");
        std::string answer(buf);
        while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) answer.pop_back();
        if (answer != *del_name) return InvalidArgument("aborted: the name did not match");
      }
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_TRY(c.Call("DELETE", "/api/v1/repositories/" + Seg(*del_name)).status());
      if (!cli.json) std::printf("deleted repository %s\n", del_name->c_str());
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
