// Turns a parsed Beast request header into the handler-facing Request (method, target, path,
// decoded query, headers). Private to the server module; shared with its fuzz target so the
// fuzzer exercises exactly what the server runs.
#pragma once

#include <boost/beast/http.hpp>

#include "server/http.h"

namespace lakemesh::server::internal {

template <class Fields>
void FillRequest(const boost::beast::http::header<true, Fields>& hdr, Request* req) {
  req->method = std::string(hdr.method_string());
  // The absolute form (GET http://host/path) is the path to us (RFC 9112, 3.2.2).
  req->target = std::string(OriginForm(std::string_view(hdr.target().data(), hdr.target().size())));
  size_t q = req->target.find('?');
  req->path = req->target.substr(0, q);
  if (q != std::string::npos) {
    req->query_string = req->target.substr(q + 1);
    req->query = ParseQuery(req->query_string);
  }
  for (const auto& f : hdr) {
    req->headers.Add(std::string(f.name_string()), std::string(f.value()));
  }
}

}  // namespace lakemesh::server::internal
