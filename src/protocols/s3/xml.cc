#include "protocols/s3/xml.h"

#include <pugixml.hpp>

namespace lakemesh::s3 {

void AppendXmlEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&apos;"; break;
      case '\r': *out += "&#13;"; break;
      default: out->push_back(c);
    }
  }
}

XmlWriter::XmlWriter(std::string_view root) : root_(root) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_ += root;
  out_ += " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
}

XmlWriter& XmlWriter::Open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Close(std::string_view name) {
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::string_view text) {
  Open(name);
  AppendXmlEscaped(&out_, text);
  return Close(name);
}

std::string XmlWriter::Finish() {
  Close(root_);
  out_ += '\n';
  return std::move(out_);
}

namespace {

Result<pugi::xml_node> ParseRoot(pugi::xml_document& doc, std::string_view xml,
                                 const char* root) {
  pugi::xml_parse_result r =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) {
    return InvalidArgument(std::string("the XML you provided was not well-formed: ") +
                           r.description() + " at offset " + std::to_string(r.offset));
  }
  pugi::xml_node n = doc.document_element();
  if (std::string_view(n.name()) != root) {
    return InvalidArgument(std::string("expected a <") + root + "> document, got <" + n.name() +
                           ">");
  }
  return n;
}

std::string Unquote(std::string s) {
  // ETags come quoted, sometimes as &quot;…&quot; (already unescaped by the parser).
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.pop_back();
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

Result<DeleteRequest> ParseDeleteRequest(std::string_view xml) {
  pugi::xml_document doc;
  LM_ASSIGN_OR_RETURN(auto root, ParseRoot(doc, xml, "Delete"));
  DeleteRequest req;
  std::string quiet = root.child("Quiet").text().as_string();
  req.quiet = quiet == "true" || quiet == "True" || quiet == "TRUE";
  for (pugi::xml_node o : root.children("Object")) {
    pugi::xml_node k = o.child("Key");
    if (!k) return InvalidArgument("an <Object> has no <Key>");
    req.objects.push_back(ObjectToDelete{k.text().as_string(), o.child("VersionId").text().as_string()});
    if (req.objects.size() > 1000) {
      return InvalidArgument("a DeleteObjects request may name at most 1000 objects");
    }
  }
  if (req.objects.empty()) return InvalidArgument("the <Delete> request names no objects");
  return req;
}

Result<std::vector<PartRef>> ParseCompleteMultipartUpload(std::string_view xml) {
  pugi::xml_document doc;
  LM_ASSIGN_OR_RETURN(auto root, ParseRoot(doc, xml, "CompleteMultipartUpload"));
  std::vector<PartRef> parts;
  for (pugi::xml_node p : root.children("Part")) {
    std::string num = Unquote(p.child("PartNumber").text().as_string());
    if (num.empty() || num.size() > 5 ||
        num.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("a <Part> has no valid <PartNumber>");
    }
    pugi::xml_node e = p.child("ETag");
    if (!e) return InvalidArgument("part " + num + " has no <ETag>");
    parts.push_back(PartRef{std::stoi(num), Unquote(e.text().as_string())});
    if (parts.size() > 10000) return InvalidArgument("more than 10000 parts");
  }
  return parts;
}

Result<std::string> ParseCreateBucketConfiguration(std::string_view xml) {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string();
  pugi::xml_document doc;
  LM_ASSIGN_OR_RETURN(auto root, ParseRoot(doc, xml, "CreateBucketConfiguration"));
  return std::string(root.child("LocationConstraint").text().as_string());
}

}  // namespace lakemesh::s3
