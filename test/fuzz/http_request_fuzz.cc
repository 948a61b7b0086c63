// Request bytes from the network: Beast's parser as the server configures it, then the server's
// own handling of what it produced (query parsing, percent-decoding, routing).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <limits>

#include "server/http.h"
#include "server/internal/request_header.h"
#include "server/router.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakemesh::server;  // NOLINT(build/namespaces)
  static Router* router = [] {
    auto* r = new Router();
    r->Add("GET", "/api/v1/repositories/{repo}/refs/{ref}/objects", [](Request&) {
      return Response::Text(200, "");
    });
    r->Add("PUT", "/files/{path*}", [](Request&) { return Response::Text(200, ""); });
    return r;
  }();
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;
  Request req;
  internal::FillRequest(parser.get(), &req);
  req.headers.Get("content-type");
  bool matched;
  router->Match(req, &matched);
  PercentDecode(req.path, false);
  return 0;
}
