// In-process micro-benchmarks of the tree (Google Benchmark): applying a batch of changes to a
// large tree, and diffing two trees, with the node cache warm.
//
//   build/bench/tree_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <random>

#include "base/hash.h"
#include "bench/bench_data.h"
#include "meta/sqlite_meta_store.h"
#include "storage/memory_blob_store.h"
#include "versioning/tree.h"

using namespace lakemesh;              // NOLINT(build/namespaces)
using namespace lakemesh::versioning;  // NOLINT(build/namespaces)

namespace {

using lakemesh::bench::EntryOf;
using lakemesh::bench::PathOf;



struct Fixture {
  std::unique_ptr<meta::MetaStore> meta;
  storage::MemoryBlobStore blobs;
  std::unique_ptr<NodeStore> nodes;
  NodeId root;
  explicit Fixture(int n) {
    meta = std::move(*meta::SqliteMetaStore::Open(":memory:"));
    nodes = std::make_unique<NodeStore>(*meta, blobs);
    std::vector<Mutation> muts;
    for (int i = 0; i < n; ++i) muts.push_back(Mutation{PathOf(i), EntryOf(i, 0)});
    std::sort(muts.begin(), muts.end(),
              [](const Mutation& a, const Mutation& b) { return a.path < b.path; });
    NodeBatch batch;
    root = *ApplyMutations(*nodes, NodeId(), muts, &batch);
    auto prepared = nodes->PrepareBatch(batch);
    LM_CHECK(prepared.ok());
    LM_CHECK(meta->Write([&](meta::MetaTxn& t) { return nodes->WriteBatch(t, *prepared); }).ok());
  }
};

// One tree per size, built on first use.
Fixture& TreeOf(int n) {
  static std::map<int, std::unique_ptr<Fixture>> trees;
  auto& f = trees[n];
  if (!f) f = std::make_unique<Fixture>(n);
  return *f;
}

std::vector<Mutation> RandomChanges(int n, int count, int version) {
  std::mt19937 rng(version);
  std::vector<Mutation> muts;
  for (int k = 0; k < count; ++k) {
    int i = static_cast<int>(rng() % static_cast<uint32_t>(n));
    muts.push_back(Mutation{PathOf(i), EntryOf(i, version)});
  }
  std::sort(muts.begin(), muts.end(),
            [](const Mutation& a, const Mutation& b) { return a.path < b.path; });
  muts.erase(std::unique(muts.begin(), muts.end(),
                         [](const Mutation& a, const Mutation& b) { return a.path == b.path; }),
             muts.end());
  return muts;
}

void BM_Apply1000Changes(benchmark::State& state) {
  Fixture& f = TreeOf(static_cast<int>(state.range(0)));
  int version = 1;
  for (auto _ : state) {
    state.PauseTiming();
    auto muts = RandomChanges(static_cast<int>(state.range(0)), 1000, version++);
    state.ResumeTiming();
    NodeBatch batch;
    auto root = ApplyMutations(*f.nodes, f.root, muts, &batch);
    if (!root.ok()) state.SkipWithError(root.status().ToString().c_str());
  }
}
BENCHMARK(BM_Apply1000Changes)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_Diff1000Changes(benchmark::State& state) {
  Fixture& f = TreeOf(static_cast<int>(state.range(0)));
  NodeBatch batch;
  auto other_root = ApplyMutations(*f.nodes, f.root,
                                   RandomChanges(static_cast<int>(state.range(0)), 1000, 7), &batch);
  LM_CHECK(other_root.ok());
  auto prepared = f.nodes->PrepareBatch(batch);
  LM_CHECK(prepared.ok());
  LM_CHECK(f.meta->Write([&](meta::MetaTxn& t) { return f.nodes->WriteBatch(t, *prepared); }).ok());
  NodeId other = *other_root;
  for (auto _ : state) {
    size_t n = 0;
    benchmark::DoNotOptimize(DiffTrees(*f.nodes, f.root, other, "", "", [&](const Change&) {
      ++n;
      return true;
    }));
  }
}
BENCHMARK(BM_Diff1000Changes)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
