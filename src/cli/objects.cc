#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/files.h"
#include "base/random.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "versioning/names.h"

namespace lakemesh::cli {
namespace {

std::string RefPath(const Uri& u) {
  return "/api/v1/repositories/" + Seg(u.repo) + "/refs/" + Seg(u.ref);
}
std::string BranchPath(const Uri& u) {
  return "/api/v1/repositories/" + Seg(u.repo) + "/branches/" + Seg(u.ref);
}

std::string Basename(const std::string& p) {
  std::string s = p;
  while (!s.empty() && s.back() == '/') s.pop_back();
  size_t slash = s.find_last_of('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string ContentType(const std::string& path) {
  auto ends = [&](const char* ext) {
    size_t n = std::strlen(ext);
    return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
  };
  if (ends(".csv")) return "text/csv";
  if (ends(".json")) return "application/json";
  if (ends(".jsonl") || ends(".ndjson")) return "application/x-ndjson";
  if (ends(".parquet")) return "application/vnd.apache.parquet";
  if (ends(".txt") || ends(".md")) return "text/plain";
  if (ends(".yaml") || ends(".yml")) return "application/yaml";
  if (ends(".avro")) return "application/avro";
  if (ends(".gz")) return "application/gzip";
  return "application/octet-stream";
}

// Files under `dir`, as paths relative to it, sorted.
Status WalkLocal(const std::string& dir, const std::string& rel, std::vector<std::string>* out) {
  std::string full = rel.empty() ? dir : dir + "/" + rel;
  DIR* d = ::opendir(full.c_str());
  if (!d) return ErrnoStatus("reading directory", full, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string p = dir + "/" + r;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      LM_TRY(WalkLocal(dir, r, out));
    } else if (S_ISREG(st.st_mode)) {
      out->push_back(r);
    }
  }
  return Status::OK();
}

uint64_t FileSize(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Every object under a prefix (recursive listing, all pages).
Result<nlohmann::json> ListAll(Client& c, const Uri& u) {
  return c.ListAll(RefPath(u) + "/objects/ls", {{"prefix", u.path}});
}

Status DownloadTo(Client& c, const Uri& u, const std::string& object, const std::string& local,
                  ProgressBar* bar, uint64_t* base) {
  auto slash = local.find_last_of('/');
  if (slash != std::string::npos && slash > 0) LM_TRY(MakeDirs(local.substr(0, slash)));
  std::string tmp = local + ".lakemesh-" + RandomHex(4);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return ErrnoStatus("creating", tmp, errno);
  uint64_t start = *base;
  auto r = c.Download(
      RefPath(u) + "/objects", {{"path", object}},
      [&](const char* p, size_t n) { return std::fwrite(p, 1, n, f) == n; },
      [&](uint64_t done, uint64_t) {
        if (bar) bar->Update(start + done);
      });
  bool closed = std::fclose(f) == 0;
  if (!r.ok() || !closed) {
    ::unlink(tmp.c_str());
    if (!r.ok()) return r.status().WithContext("downloading " + object);
    return IoError("writing " + local + " failed");
  }
  *base += *r;
  if (::rename(tmp.c_str(), local.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return ErrnoStatus("renaming onto", local, errno);
  }
  return Status::OK();
}

}  // namespace

void AddObjects(CLI::App& app, Cli& cli) {
  struct Args {
    std::string uri, src, dst;
    bool recursive = false;
  };
  auto a = std::make_shared<Args>();

  auto* ls = app.add_subcommand("ls", "List objects: lakemesh://REPO/REF/[PREFIX]");
  ls->add_option("uri", a->uri, "lakemesh://REPO/REF/PREFIX")->required();
  ls->add_flag("-r,--recursive", a->recursive, "list everything under the prefix");
  ls->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto u, ParseUri(a->uri));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      Query q{{"prefix", u.path}};
      if (!a->recursive) q.emplace_back("delimiter", "/");
      LM_ASSIGN_OR_RETURN(auto all, c.ListAll(RefPath(u) + "/objects/ls", q));
      if (cli.json) {
        PrintJson(all);
        return Status::OK();
      }
      Table t({"SIZE", "MODIFIED", "PATH"});
      for (const auto& o : all) {
        if (o["type"] == "prefix") {
          t.Row({"DIR", "", o["path"]});
        } else {
          t.Row({HumanBytes(o["size"].get<uint64_t>()), o["mtime"], o["path"]});
        }
      }
      t.Print();
      return Status::OK();
    };
  });

  auto* cp = app.add_subcommand(
      "cp", "Copy files between the local disk and lakemesh (like aws s3 cp)");
  cp->add_option("source", a->src, "local path or lakemesh://REPO/REF/PATH")->required();
  cp->add_option("dest", a->dst, "local path or lakemesh://REPO/BRANCH/PATH")->required();
  cp->add_flag("-r,--recursive", a->recursive, "copy folders / prefixes");
  cp->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      bool up = !IsUri(a->src) && IsUri(a->dst);
      bool down = IsUri(a->src) && !IsUri(a->dst);
      if (!up && !down) {
        return InvalidArgument("cp copies between a local path and a lakemesh:// URI");
      }
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      if (up) {
        LM_ASSIGN_OR_RETURN(auto u, ParseUri(a->dst));
        std::vector<std::pair<std::string, std::string>> files;  // local, object path
        if (IsDir(a->src)) {
          if (!a->recursive) {
            return InvalidArgument("'" + a->src + "' is a directory; use --recursive");
          }
          std::vector<std::string> rel;
          LM_TRY(WalkLocal(a->src, "", &rel));
          std::string prefix = u.path;
          if (!prefix.empty() && prefix.back() != '/') prefix += '/';
          for (const auto& r : rel) files.emplace_back(a->src + "/" + r, prefix + r);
        } else {
          if (!PathExists(a->src)) return NotFound("local file '" + a->src + "' not found");
          std::string path = u.path;
          if (path.empty() || path.back() == '/') path += Basename(a->src);
          files.emplace_back(a->src, path);
        }
        for (const auto& [local, path] : files) LM_TRY(versioning::ValidatePath(path));
        uint64_t total = 0;
        for (const auto& f : files) total += FileSize(f.first);
        ProgressBar bar("", total);
        uint64_t base = 0;
        nlohmann::json results = nlohmann::json::array();
        for (size_t i = 0; i < files.size(); ++i) {
          const auto& [local, path] = files[i];
          bar.SetLabel("(" + std::to_string(i + 1) + "/" + std::to_string(files.size()) + ") " +
                       path);
          auto r = c.Upload(BranchPath(u) + "/objects", {{"path", path}}, local,
                            ContentType(local), [&](uint64_t done, uint64_t) {
                              bar.Update(base + done);
                            });
          if (!r.ok()) return r.status().WithContext("uploading " + local);
          base += FileSize(local);
          results.push_back(*r);
        }
        bar.Update(base);
        bar.Finish();
        if (cli.json) {
          PrintJson(results);
        } else {
          std::printf("uploaded %zu file(s), %s, to lakemesh://%s/%s/ (uncommitted: run "
                      "`lakemesh commit %s %s -m ...`)\n",
                      files.size(), HumanBytes(total).c_str(), u.repo.c_str(), u.ref.c_str(),
                      u.repo.c_str(), u.ref.c_str());
        }
        return Status::OK();
      }
      LM_ASSIGN_OR_RETURN(auto u, ParseUri(a->src));
      if (a->recursive) {
        LM_ASSIGN_OR_RETURN(auto objects, ListAll(c, u));
        uint64_t total = 0;
        for (const auto& o : objects) total += o["size"].get<uint64_t>();
        ProgressBar bar("", total);
        uint64_t base = 0;
        std::string prefix = u.path;
        size_t cut = prefix.empty() ? 0 : (prefix.back() == '/' ? prefix.size()
                                                                 : prefix.find_last_of('/') + 1);
        for (size_t i = 0; i < objects.size(); ++i) {
          std::string path = objects[i]["path"];
          std::string rel = path.substr(std::min(cut, path.size()));
          // Object paths never contain '.' or '..' segments, so rel stays under the target.
          if (rel.empty() || rel.back() == '/') continue;  // folder markers
          bar.SetLabel("(" + std::to_string(i + 1) + "/" + std::to_string(objects.size()) + ") " +
                       path);
          LM_TRY(DownloadTo(c, u, path, a->dst + "/" + rel, &bar, &base));
        }
        bar.Finish();
        if (!cli.json) {
          std::printf("downloaded %zu file(s), %s, to %s\n", objects.size(),
                      HumanBytes(total).c_str(), a->dst.c_str());
        }
        return Status::OK();
      }
      if (u.path.empty()) return InvalidArgument("'" + a->src + "' names no object");
      std::string local = a->dst;
      if (IsDir(local) || (!local.empty() && local.back() == '/')) {
        local += (local.back() == '/' ? "" : "/") + Basename(u.path);
      }
      LM_ASSIGN_OR_RETURN(auto st, c.Call("GET", RefPath(u) + "/objects/stat", {{"path", u.path}}));
      ProgressBar bar(u.path, st["size"].get<uint64_t>());
      uint64_t base = 0;
      LM_TRY(DownloadTo(c, u, u.path, local, &bar, &base));
      bar.Finish();
      if (!cli.json) std::printf("downloaded %s to %s\n", HumanBytes(base).c_str(), local.c_str());
      return Status::OK();
    };
  });

  auto* cat = app.add_subcommand("cat", "Write an object to standard output");
  cat->add_option("uri", a->uri, "lakemesh://REPO/REF/PATH")->required();
  cat->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto u, ParseUri(a->uri));
      if (u.path.empty()) return InvalidArgument("'" + a->uri + "' names no object");
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      return c.Download(RefPath(u) + "/objects", {{"path", u.path}},
                        [](const char* p, size_t n) { return std::fwrite(p, 1, n, stdout) == n; },
                        nullptr)
          .status();
    };
  });

  auto* stat = app.add_subcommand("stat", "Show an object's metadata");
  stat->add_option("uri", a->uri, "lakemesh://REPO/REF/PATH")->required();
  stat->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto u, ParseUri(a->uri));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      LM_ASSIGN_OR_RETURN(auto r, c.Call("GET", RefPath(u) + "/objects/stat", {{"path", u.path}}));
      if (cli.json) {
        PrintJson(r);
        return Status::OK();
      }
      std::printf("path          %s\nsize          %s (%llu bytes)\netag          %s\n"
                  "modified      %s\ncontent type  %s\n",
                  r["path"].get<std::string>().c_str(), HumanBytes(r["size"]).c_str(),
                  static_cast<unsigned long long>(r["size"].get<uint64_t>()),
                  r["etag"].get<std::string>().c_str(), r["mtime"].get<std::string>().c_str(),
                  r["content_type"].get<std::string>().c_str());
      if (r.contains("metadata")) {
        for (auto it = r["metadata"].begin(); it != r["metadata"].end(); ++it) {
          std::printf("meta          %s=%s\n", it.key().c_str(),
                      it.value().get<std::string>().c_str());
        }
      }
      return Status::OK();
    };
  });

  auto* rm = app.add_subcommand("rm", "Delete objects on a branch (staged until committed)");
  rm->add_option("uri", a->uri, "lakemesh://REPO/BRANCH/PATH")->required();
  rm->add_flag("-r,--recursive", a->recursive, "delete everything under the prefix");
  rm->callback([&cli, a] {
    cli.action = [&cli, a]() -> Status {
      LM_ASSIGN_OR_RETURN(auto u, ParseUri(a->uri));
      LM_ASSIGN_OR_RETURN(auto c, cli.Connect());
      std::vector<std::string> paths;
      if (a->recursive) {
        LM_ASSIGN_OR_RETURN(auto objects, ListAll(c, u));
        for (const auto& o : objects) paths.push_back(o["path"]);
      } else {
        if (u.path.empty()) return InvalidArgument("'" + a->uri + "' names no object");
        paths.push_back(u.path);
      }
      for (const auto& p : paths) {
        LM_TRY(c.Call("DELETE", BranchPath(u) + "/objects", {{"path", p}}).status());
        if (!cli.json) std::printf("deleted %s\n", p.c_str());
      }
      return Status::OK();
    };
  });
}

}  // namespace lakemesh::cli
