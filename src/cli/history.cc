#include "cli/commands.h"
#include "cli/output.h"

namespace lakemesh::cli {
namespace {

std::string RepoPath(const std::string& repo) { return "/api/v1/repositories/" + Seg(repo); }

Result<nlohmann::json> MetadataJson(const std::vector<std::string>& kvs) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& kv : kvs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--meta '" + kv + "' must be KEY=VALUE");
    }
    m[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return m;
}

void PrintCommit(const nlohmann::json& c) {
  std::printf("commit %s\n", c["id"].get<std::string>().c_str());
  if (c["parents"].size() > 1) {
    std::string ps;
    for (const auto& p : c["parents"]) ps += " " + ShortId(p.get<std::string>());
    std::printf("Merge:%s\n", ps.c_str());
  }
  std::printf("Author: %s\nDate:   %s\n", c["author"].get<std::string>().c_str(),
              c["created"].get<std::string>().c_str());
  for (auto it = c["metadata"].begin(); it != c["metadata"].end(); ++it) {
    std::printf("Meta:   %s=%s\n", it.key().c_str(), it.value().get<std::string>().c_str());
  }
  std::printf("\n    %s\n\n", c["message"].get<std::string>().c_str());
}

char ChangeMark(const std::string& type) {
  return type == "added" ? '+' : type == "removed" ? '-' : '~';
}

// Prints every page of a changes listing (or all of it as JSON).
Status PrintChanges(Client& c, const std::string& path, const std::string& prefix, bool json) {
  LM_ASSIGN_OR_RETURN(auto all, c.ListAll(path, {{"prefix", prefix}}));
  if (json) {
    PrintJson(all);
  } else if (all.empty()) {
    std::printf("no changes\n");
  } else {
    for (const auto& ch : all) {
      std::printf("%c %s\n", ChangeMark(ch["type"]), ch["path"].get<std::string>().c_str());
    }
  }
  return Status::OK();
}

}  // namespace

void AddHistory(CLI::App& app, Cli& cli) {
  struct Args {
    std::string repo, branch, ref, left, right, message, path, after, strategy = "fail", to,
        prefix;
    std::vector<std::string> meta;
    bool allow_empty = false;
    bool oneline = false;
    int limit = 20;
    int parent = 0;
  };
  auto a = std::make_shared<Args>();

  auto* commit = app.add_subcommand("commit", "Commit a branch's uncommitted changes");
  commit->add_option("repo", a->repo, "repository")->required();
  commit->add_option("branch", a->branch, "branch")->required();
  commit->add_option("-m,--message", a->message, "commit message")->required();
  commit->add_option("--meta", a->meta, "KEY=VALUE metadata (repeatable)");
  commit->add_flag("--allow-empty", a->allow_empty, "commit even with no changes");
  commit->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto meta, MetadataJson(a->meta));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"message", a->message}, {"metadata", meta},
                          {"allow_empty", a->allow_empty}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", RepoPath(a->repo) + "/branches/" +
                                                     Seg(a->branch) + "/commits", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("[%s %s] %s\n", a->branch.c_str(), ShortId(r["id"]).c_str(),
                    a->message.c_str());
      }
      return Status::OK();
    };
  });

  auto* log = app.add_subcommand("log", "Show commit history of a ref, newest first");
  log->add_option("repo", a->repo, "repository")->required();
  log->add_option("ref", a->ref, "branch, tag, commit or ref expression")->required();
  log->add_option("--path", a->path, "only commits that changed this path (or prefix/)");
  log->add_option("-n,--limit", a->limit, "at most this many commits")->capture_default_str();
  log->add_option("--after", a->after, "continue after this commit id (pagination)");
  log->add_flag("--oneline", a->oneline, "one line per commit");
  log->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      Query q{{"limit", std::to_string(a->limit)}};
      if (!a->path.empty()) q.emplace_back("path", a->path);
      if (!a->after.empty()) q.emplace_back("after", a->after);
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", RepoPath(a->repo) + "/refs/" + Seg(a->ref) +
                                                     "/commits", q));
      if (cli.json) {
        PrintJson(r);
        return Status::OK();
      }
      for (const auto& cm : r["results"]) {
        if (a->oneline) {
          std::printf("%s %s\n", ShortId(cm["id"]).c_str(), cm["message"].get<std::string>().c_str());
        } else {
          PrintCommit(cm);
        }
      }
      if (r["pagination"]["has_more"].get<bool>()) {
        std::fprintf(stderr, "(more: --after %s)\n",
                     r["pagination"]["next_after"].get<std::string>().c_str());
      }
      return Status::OK();
    };
  });

  auto* show = app.add_subcommand("show", "Show one commit");
  show->add_option("repo", a->repo, "repository")->required();
  show->add_option("ref", a->ref, "branch, tag, commit or ref expression")->required();
  show->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", RepoPath(a->repo) + "/refs/" + Seg(a->ref)));
      if (cli.json) {
        PrintJson(r);
      } else {
        PrintCommit(r);
      }
      return Status::OK();
    };
  });

  auto* diff = app.add_subcommand(
      "diff", "Show paths that differ between two refs, or a branch's uncommitted changes");
  diff->add_option("repo", a->repo, "repository")->required();
  diff->add_option("left", a->left, "ref (alone: the branch whose uncommitted changes to show)")
      ->required();
  diff->add_option("right", a->right, "ref to compare with");
  diff->add_option("--prefix", a->prefix, "only paths under this prefix");
  diff->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      std::string path = a->right.empty()
                             ? RepoPath(a->repo) + "/branches/" + Seg(a->left) + "/changes"
                             : RepoPath(a->repo) + "/refs/" + Seg(a->left) + "/diff/" +
                                   Seg(a->right);
      return PrintChanges(c, path, a->prefix, cli.json);
    };
  });

  auto* status = app.add_subcommand("status", "Show a branch's uncommitted changes");
  status->add_option("repo", a->repo, "repository")->required();
  status->add_option("branch", a->branch, "branch")->required();
  status->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      return PrintChanges(c, RepoPath(a->repo) + "/branches/" + Seg(a->branch) + "/changes", "",
                          cli.json);
    };
  });

  auto* merge = app.add_subcommand("merge", "Merge a ref into a branch (three-way)");
  merge->add_option("repo", a->repo, "repository")->required();
  merge->add_option("source", a->left, "ref to merge from")->required();
  merge->add_option("dest", a->branch, "branch to merge into")->required();
  merge->add_option("--strategy", a->strategy, "on conflicts: fail, source-wins or dest-wins")
      ->capture_default_str()
      ->check(CLI::IsMember({"fail", "source-wins", "dest-wins"}));
  merge->add_option("-m,--message", a->message, "merge commit message");
  merge->add_option("--meta", a->meta, "KEY=VALUE metadata (repeatable)");
  merge->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto meta, MetadataJson(a->meta));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"strategy", a->strategy}, {"message", a->message}, {"metadata", meta}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", RepoPath(a->repo) + "/refs/" + Seg(a->left) +
                                                     "/merge/" + Seg(a->branch), {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else if (r["already_up_to_date"].get<bool>()) {
        std::printf("already up to date\n");
      } else {
        std::printf("merged %s into %s: %s (%zu paths changed)\n", a->left.c_str(),
                    a->branch.c_str(), ShortId(r["commit"]).c_str(),
                    r["changes"].get<size_t>());
      }
      return Status::OK();
    };
  });

  auto* revert = app.add_subcommand("revert", "Commit the inverse of a commit on a branch");
  revert->add_option("repo", a->repo, "repository")->required();
  revert->add_option("branch", a->branch, "branch to commit the revert on")->required();
  revert->add_option("commit", a->ref, "commit (or ref expression) to revert")->required();
  revert->add_option("--parent", a->parent, "for a merge commit: the parent (1 or 2) to revert to");
  revert->add_option("-m,--message", a->message, "commit message");
  revert->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body{{"ref", a->ref}, {"parent_number", a->parent}, {"message", a->message}};
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", RepoPath(a->repo) + "/branches/" +
                                                     Seg(a->branch) + "/revert", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else {
        std::printf("[%s %s] %s\n", a->branch.c_str(), ShortId(r["id"]).c_str(),
                    r["message"].get<std::string>().c_str());
      }
      return Status::OK();
    };
  });

  auto* reset = app.add_subcommand(
      "reset", "Discard a branch's uncommitted changes, or move it to another ref with --to");
  reset->add_option("repo", a->repo, "repository")->required();
  reset->add_option("branch", a->branch, "branch")->required();
  reset->add_option("--to", a->to, "move the branch to this ref (uncommitted changes are lost)");
  reset->add_option("--prefix", a->prefix, "discard only changes under this prefix");
  reset->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      nlohmann::json body = nlohmann::json::object();
      if (!a->to.empty()) body["ref"] = a->to;
      if (!a->prefix.empty()) body["prefix"] = a->prefix;
      LM_ASSIGN_OR_RETURN(auto r, c.Call("POST", RepoPath(a->repo) + "/branches/" +
                                                     Seg(a->branch) + "/reset", {}, &body));
      if (cli.json) {
        PrintJson(r);
      } else if (!a->to.empty()) {
        std::printf("branch %s now at %s\n", a->branch.c_str(), ShortId(r["head"]).c_str());
      } else {
        std::printf("discarded %zu uncommitted change(s)\n", r["discarded"].get<size_t>());
      }
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
