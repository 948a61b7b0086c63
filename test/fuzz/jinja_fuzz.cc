// Templates are files of a project (dbt models and macros): the Jinja engine parses and renders
// whatever they hold, with limits that stop runaway loops.
#include <cstdint>
#include <string>

#include "transform/jinja/jinja.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakemesh::jinja;  // NOLINT(build/namespaces)
  std::string in(reinterpret_cast<const char*>(data), size);
  Options o;
  o.trim_blocks = size % 2;
  o.lstrip_blocks = size % 3 == 0;
  o.max_steps = 20000;
  o.max_output_bytes = 1 << 20;
  Environment env(o);
  env.SetLoader([in](const std::string& name) -> lakemesh::Result<std::string> {
    if (name == "self") return in;
    return lakemesh::NotFound("no template " + name);
  });
  Value ctx = Value::Dict();
  ctx.dict().Set(Value("items"), Value::List({Value(1), Value("two"), Value(3.5)}));
  ctx.dict().Set(Value("d"), Value::Dict());
  auto t = env.Parse("fuzz", in);
  if (t.ok()) (void)env.Render(**t, ctx);
  return 0;
}
