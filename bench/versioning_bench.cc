// Versioning figures of issue #2, with git measured in the same run as the reference.
//
//   build/bench/versioning_bench [--objects N] [--git-files M] [--rounds R] [--dir DIR]
//
// lakemesh runs in-process on its real stores (SQLite in WAL mode with synchronous=FULL, blobs on
// disk), so the figures are the versioning engine's, without HTTP. git runs as the git command
// users type, process start included. Every figure is the median over its repetitions.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/hash.h"
#include "bench/bench_data.h"
#include "base/time.h"
#include "meta/sqlite_meta_store.h"
#include "storage/local_blob_store.h"
#include "versioning/repository.h"

using namespace lakemesh;              // NOLINT(build/namespaces)
using namespace lakemesh::versioning;  // NOLINT(build/namespaces)

namespace {

using lakemesh::bench::Check;
using lakemesh::bench::EntryOf;
using lakemesh::bench::Median;
using lakemesh::bench::TimeMs;
using lakemesh::bench::PathOf;



int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

double TimeSh(const std::string& cmd) {
  double ms = TimeMs([&] {
    if (Sh(cmd) != 0) {
      std::fprintf(stderr, "command failed: %s\n", cmd.c_str());
      std::exit(1);
    }
  });
  return ms;
}

struct Row {
  std::string figure;
  double lakemesh_ms;
  std::string target;
  double git_ms;  // < 0: no git reference
};

}  // namespace

int main(int argc, char** argv) {
  int objects = 1000000, git_files = 100000, rounds = 7;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--objects") objects = std::atoi(argv[i + 1]);
    if (a == "--git-files") git_files = std::atoi(argv[i + 1]);
    if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/lakemesh-bench-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  std::printf("versioning benchmark: %d objects, git reference with %d files, %d rounds, in %s\n",
              objects, git_files, rounds, dir.c_str());
  std::fflush(stdout);

  auto meta = meta::SqliteMetaStore::Open(dir + "/meta.db");
  Check(meta.status(), "open meta");
  auto blobs = storage::LocalBlobStore::Open(dir + "/blobs");
  Check(blobs.status(), "open blobs");
  auto repos = std::make_unique<Repositories>(**meta, **blobs);

  auto fill = [&](const std::string& repo, int n) {
    Check(repos->CreateRepo(repo, "main", "bench").status(), "create repo");
    constexpr int kChunk = 200000;
    for (int start = 0; start < n; start += kChunk) {
      std::vector<Mutation> muts;
      for (int i = start; i < std::min(n, start + kChunk); ++i) {
        muts.push_back(Mutation{PathOf(i), EntryOf(i, 0)});
      }
      std::sort(muts.begin(), muts.end(),
                [](const Mutation& a, const Mutation& b) { return a.path < b.path; });
      Check(repos->CommitChanges(repo, "main", muts, {"import", "bench", {}, false, ""}).status(),
            "import");
    }
  };
  double fill_ms = TimeMs([&] {
    fill("small", 1000);
    fill("big", objects);
  });
  std::printf("  imported %d objects in %.1f s\n", objects, fill_ms / 1000);

  std::vector<Row> rows;
  // Branch creation.
  for (const char* repo : {"small", "big"}) {
    std::vector<double> t;
    for (int i = 0; i < 200; ++i) {
      t.push_back(TimeMs([&] {
        Check(repos->CreateBranch(repo, "b" + std::to_string(i), "main").status(), "branch");
      }));
    }
    rows.push_back({std::string("create a branch (") + (std::string(repo) == "small" ? "1,000" : std::to_string(objects)) + " objects)",
                    Median(t), "< 1 ms", -1});
  }

  // Commit of 1,000 staged changes, and diff of the commits that result.
  std::mt19937 rng(1);
  std::vector<std::string> commit_ids{repos->GetBranch("big", "main")->head};
  std::vector<double> commit_t;
  for (int r = 0; r < rounds; ++r) {
    std::vector<int> picks;
    while (picks.size() < 1000) {
      int i = static_cast<int>(rng() % static_cast<uint32_t>(objects));
      if (std::find(picks.begin(), picks.end(), i) == picks.end()) picks.push_back(i);
    }
    for (int i : picks) {
      Check(repos->PutEntry("big", "main", PathOf(i), EntryOf(i, r + 1)).status(), "stage");
    }
    Commit c;
    commit_t.push_back(TimeMs([&] {
      auto res = repos->CommitBranch("big", "main", {"change 1000", "bench", {}, false, ""});
      Check(res.status(), "commit");
      c = *res;
    }));
    commit_ids.push_back(c.id);
  }
  rows.push_back({"commit 1,000 changed objects", Median(commit_t), "< 100 ms", -1});

  auto diff_all = [&](Repositories& rs) {
    std::vector<double> t;
    for (size_t i = 1; i < commit_ids.size(); ++i) {
      t.push_back(TimeMs([&] {
        auto d = rs.Diff("big", commit_ids[i - 1], commit_ids[i], {"", "", 100000});
        Check(d.status(), "diff");
        if (d->changes.size() != 1000) {
          std::fprintf(stderr, "diff found %zu changes, expected 1000\n", d->changes.size());
          std::exit(1);
        }
      }));
    }
    return Median(t);
  };
  auto list_all = [&](Repositories& rs) {
    std::vector<double> t;
    for (int i = 0; i < 30; ++i) {
      char prefix[32];
      std::snprintf(prefix, sizeof(prefix), "data/d%04d/", (i * 37) % (objects / 1000));
      t.push_back(TimeMs([&] {
        auto l = rs.ListObjects("big", "main", {prefix, "", "", 1000});
        Check(l.status(), "list");
        if (l->objects.size() != 1000) {
          std::fprintf(stderr, "listed %zu keys, expected 1000\n", l->objects.size());
          std::exit(1);
        }
      }));
    }
    return Median(t);
  };
  rows.push_back({"diff two commits, 1,000 paths differ", diff_all(*repos), "< 50 ms", -1});
  rows.push_back({"list 1,000 keys under a prefix", list_all(*repos), "< 10 ms", -1});
  // The same with an empty node cache, as right after a restart.
  {
    Repositories cold(**meta, **blobs);
    rows.push_back({"diff, cold cache (first read after start)", diff_all(cold), "", -1});
  }
  {
    Repositories cold(**meta, **blobs);
    rows.push_back({"list, cold cache (first read after start)", list_all(cold), "", -1});
  }

  // git, the reference.
  if (git_files > 0) {
    std::string g = dir + "/git";
    Check(MakeDirs(g), "git dir");
    std::string gq = "cd " + g + " && ";
    Sh(gq + "git init -q . && git config user.email b@b && git config user.name bench && "
            "git config gc.auto 0");
    double setup = TimeMs([&] {
      for (int i = 0; i < git_files; ++i) {
        std::string p = g + "/" + PathOf(i);
        if (i % 1000 == 0) Check(MakeDirs(p.substr(0, p.find_last_of('/'))), "mkdir");
        FILE* f = std::fopen(p.c_str(), "w");
        std::fprintf(f, "%d/0\n", i);
        std::fclose(f);
      }
      Sh(gq + "git add -A && git commit -q -m import");
    });
    std::printf("  git: created and committed %d files in %.1f s\n", git_files, setup / 1000);
    std::vector<double> branch_t, commit_g, diff_g, list_g;
    for (int i = 0; i < 50; ++i) branch_t.push_back(TimeSh(gq + "git branch b" + std::to_string(i)));
    std::mt19937 grng(1);
    for (int r = 0; r < rounds; ++r) {
      std::string add = gq + "git add";
      for (int k = 0; k < 1000; ++k) {
        int i = static_cast<int>(grng() % static_cast<uint32_t>(git_files));
        FILE* f = std::fopen((g + "/" + PathOf(i)).c_str(), "w");
        std::fprintf(f, "%d/%d\n", i, r + 1);
        std::fclose(f);
        add += " " + PathOf(i);
      }
      Sh(add);
      commit_g.push_back(TimeSh(gq + "git commit -q -m change"));
      diff_g.push_back(TimeSh(gq + "git diff --name-only HEAD~1 HEAD > /dev/null"));
    }
    for (int i = 0; i < 30; ++i) {
      char prefix[32];
      std::snprintf(prefix, sizeof(prefix), "data/d%04d/", (i * 37) % (git_files / 1000));
      list_g.push_back(TimeSh(gq + "git ls-tree --name-only HEAD " + prefix + " > /dev/null"));
    }
    rows[0].git_ms = rows[1].git_ms = Median(branch_t);
    rows[2].git_ms = Median(commit_g);
    rows[3].git_ms = Median(diff_g);
    rows[4].git_ms = Median(list_g);
  }

  std::printf("\n%-44s %12s %10s %14s %10s\n", "figure (median)", "lakemesh", "target",
              "git", "ratio");
  for (const auto& r : rows) {
    char git[32] = "", ratio[32] = "";
    if (r.git_ms >= 0) {
      std::snprintf(git, sizeof(git), "%.2f ms", r.git_ms);
      std::snprintf(ratio, sizeof(ratio), "%.3f", r.lakemesh_ms / r.git_ms);
    }
    std::printf("%-44s %9.3f ms %10s %14s %10s\n", r.figure.c_str(), r.lakemesh_ms,
                r.target.c_str(), git, ratio);
  }
  std::printf("\nratio = lakemesh / git (below 1: lakemesh is faster). git holds %d files, "
              "lakemesh %d objects.\n",
              git_files, objects);
  Sh("rm -rf " + dir);
  return 0;
}
