// Renders every case of a template corpus with lakemesh's Jinja engine, for the differential
// test against Python's Jinja2 (test/jinja/test_differential.py) and the render benchmark.
// Usage: jinja_render CORPUS.json [ROUNDS]
//   CORPUS.json: [{"name", "template", "context"?, "templates"?: {name: text},
//                  "options"?: {"trim_blocks", "lstrip_blocks", "keep_trailing_newline"}}]
// Prints {"<name>": {"out": text} | {"error": message}, ...}; with ROUNDS, parses each case
// once, renders the corpus that many times, and prints the seconds each took instead.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "transform/jinja/jinja.h"

using lakemesh::jinja::Value;
using Json = nlohmann::ordered_json;

static Value FromJson(const Json& j) {
  if (j.is_null()) return Value::None();
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_array()) {
    std::vector<Value> items;
    for (const auto& e : j) items.push_back(FromJson(e));
    return Value::List(std::move(items));
  }
  Value d = Value::Dict();
  for (auto it = j.begin(); it != j.end(); ++it) d.dict().Set(Value(it.key()), FromJson(it.value()));
  return d;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS.json [ROUNDS]\n", argv[0]);
    return 2;
  }
  // The heap settings of the lakemesh binary (see cli/serve.cc): freed memory is kept.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  std::ifstream in(argv[1]);
  std::stringstream ss;
  ss << in.rdbuf();
  Json corpus = Json::parse(ss.str());
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 0;
  Json out = Json::object();
  // Each case's environment and parsed template, made once.
  struct Case {
    std::string name;
    std::unique_ptr<lakemesh::jinja::Environment> env;
    lakemesh::Result<std::shared_ptr<const lakemesh::jinja::Template>> parsed = lakemesh::NotFound("");
    Value context;
  };
  std::vector<Case> cases;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& c : corpus) {
    lakemesh::jinja::Options o;
    if (c.contains("options")) {
      o.trim_blocks = c["options"].value("trim_blocks", false);
      o.lstrip_blocks = c["options"].value("lstrip_blocks", false);
      o.keep_trailing_newline = c["options"].value("keep_trailing_newline", false);
    }
    Case k;
    k.name = c["name"].get<std::string>();
    k.env = std::make_unique<lakemesh::jinja::Environment>(o);
    std::map<std::string, std::string> templates;
    if (c.contains("templates")) {
      for (auto it = c["templates"].begin(); it != c["templates"].end(); ++it) {
        templates[it.key()] = it.value().get<std::string>();
      }
    }
    k.env->SetLoader([templates](const std::string& name) -> lakemesh::Result<std::string> {
      auto it = templates.find(name);
      if (it == templates.end()) return lakemesh::NotFound("template not found: " + name);
      return it->second;
    });
    k.context = c.contains("context") ? FromJson(c["context"]) : Value::Dict();
    k.parsed = k.env->Parse("<string>", c["template"].get<std::string>());
    cases.push_back(std::move(k));
  }
  const double parse_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < std::max(1, rounds); ++round) {
    for (auto& k : cases) {
      lakemesh::Result<std::string> r = k.parsed.ok() ? k.env->Render(**k.parsed, k.context)
                                                      : lakemesh::Result<std::string>(k.parsed.status());
      if (rounds == 0) {
        out[k.name] = r.ok() ? Json{{"out", *r}} : Json{{"error", r.status().message()}};
      }
    }
  }
  if (rounds > 0) {
    // Seconds to parse the corpus once, and to render it ROUNDS times.
    std::printf("%.6f %.6f\n", parse_s,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
