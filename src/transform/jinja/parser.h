// Template text to its parsed form. Private to src/transform/jinja.
#pragma once

#include <string>
#include <string_view>

#include "transform/jinja/ast.h"
#include "transform/jinja/jinja.h"

namespace lakemesh::jinja {

// A template error, thrown inside the engine and turned into a Status at its API. `message`
// starts with "name:line:column: ".
struct TemplateError {
  std::string message;
};

// An error raised by a function or operator while rendering (no position yet): the
// interpreter adds the template, line and column of the expression it was evaluating.
struct RuntimeError {
  std::string message;
};

// Throws TemplateError on a syntax error.
ast::Body ParseTemplate(const std::string& name, std::string_view source, const Options& options);

}  // namespace lakemesh::jinja
