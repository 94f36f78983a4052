#include "protocol/json_schema_internal.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace herald::protocol::schema_internal {

std::string_view view(const value_t& v) {
  return {v.GetString(), v.GetStringLength()};
}

std::string render(const value_t& v, std::size_t max_len) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  std::string out(buf.GetString(), buf.GetSize());
  if (out.size() > max_len) {
    auto cut = max_len;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
      --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string json_quoted(std::string_view s) {
  value_t v(rapidjson::StringRef(s.data(), s.size()));
  return render(v, 200);
}

std::string escape_token(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string stringify(const pointer_t& p) {
  rapidjson::StringBuffer buf;
  p.Stringify(buf);
  return {buf.GetString(), buf.GetSize()};
}

std::string uri_fragment(const pointer_t& p) {
  rapidjson::StringBuffer buf;
  p.StringifyUriFragment(buf);
  return {buf.GetString(), buf.GetSize()};
}

std::string last_token(const std::string& pointer) {
  auto slash = pointer.rfind('/');
  std::string raw =
      slash == std::string::npos ? pointer : pointer.substr(slash + 1);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '~' && i + 1 < raw.size()) {
      out += raw[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += raw[i];
    }
  }
  return out;
}

std::string last_segment(std::string_view uri) {
  auto end = uri.find_first_of("?#");
  if (end != std::string_view::npos)
    uri = uri.substr(0, end);
  auto slash = uri.rfind('/');
  if (slash != std::string_view::npos)
    uri = uri.substr(slash + 1);
  if (uri == "." || uri == "..")
    return {};
  return std::string{uri};
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

bool read_file(const std::string& path, std::string& out, std::string& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    err = "cannot read " + path + ": read error";
    return false;
  }
  out = buf.str();
  return true;
}

std::string parse_error(const std::string& name, std::string_view text,
                        const document_t& doc) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < doc.GetErrorOffset() && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return name + ": " + std::to_string(line) + ":" + std::to_string(col) + " "
         + rapidjson::GetParseError_En(doc.GetParseError());
}

} // namespace herald::protocol::schema_internal
