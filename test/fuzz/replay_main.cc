// A stand-in for libFuzzer's main() so every fuzz target also runs under g++ in `make test`:
// it feeds each file named on the command line, then a deterministic stream of mutations of
// them (bit flips, truncations, splices, random bytes) to LLVMFuzzerTestOneInput. With clang,
// build with -DLAKEMESH_FUZZ=ON to get real coverage-guided fuzzers instead.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  int iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) {
      iterations = std::atoi(a.c_str() + 6);
      continue;
    }
    std::ifstream f(a, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    seeds.push_back(ss.str());
  }
  if (seeds.empty()) seeds.push_back("");
  std::mt19937_64 rng(12345);
  for (const auto& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  for (int it = 0; it < iterations; ++it) {
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 5) {
        case 0:
          if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:
          if (!s.empty()) s.resize(rng() % s.size());
          break;
        case 2:
          s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : rng() % s.size()),
                   static_cast<char>(rng() % 256));
          break;
        case 3: {
          const auto& o = seeds[rng() % seeds.size()];
          if (!o.empty()) s += o.substr(rng() % o.size());
          break;
        }
        default:
          if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng() % 256);
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::printf("replayed %zu seeds and %d mutations\n", seeds.size(), iterations);
  return 0;
}
