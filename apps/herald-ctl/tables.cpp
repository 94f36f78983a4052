#include "tables.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace herald::ctl {

namespace {

// Width in terminal columns: counts UTF-8 lead bytes, which is right for
// the text the node writes (no wide characters in names or states).
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

} // namespace

table::table(std::vector<std::string> headers) {
  for (auto& h : headers) {
    bool right = !h.empty() && h[0] == '>';
    right_.push_back(right);
    headers_.push_back(right ? h.substr(1) : h);
  }
}

void table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c)
    width[c] = columns(headers_[c]);
  for (auto& row : rows_)
    for (std::size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], columns(row[c]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      bool last = c + 1 == cells.size();
      std::string cell = cells[c];
      if (last && last_width_)
        cell = clip(cell, last_width_);
      std::string pad(width[c] - std::min(width[c], columns(cell)), ' ');
      if (right_[c])
        text += pad + cell;
      else
        text += last ? cell : cell + pad;
      if (!last)
        text += "  ";
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out << text << '\n';
  };
  line(headers_);
  for (auto& row : rows_)
    line(row);
}

std::string json_text(const json_value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

std::string text_of(const json_value& v) {
  if (v.IsNull())
    return "";
  if (v.IsString())
    return {v.GetString(), v.GetStringLength()};
  if (v.IsBool())
    return v.GetBool() ? "yes" : "no";
  if (v.IsInt64())
    return std::to_string(v.GetInt64());
  if (v.IsUint64())
    return std::to_string(v.GetUint64());
  if (v.IsNumber()) {
    double d = v.GetDouble();
    if (d == std::floor(d) && std::fabs(d) < 1e15)
      return std::to_string(static_cast<long long>(d));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", d);
    return buf;
  }
  if (v.IsArray()) {
    std::string out;
    for (auto& item : v.GetArray()) {
      if (!out.empty())
        out += ",";
      out += text_of(item);
    }
    return out;
  }
  return json_text(v);
}

std::string text_of(const json_value& v, const char* key,
                    const std::string& fallback) {
  if (!v.IsObject())
    return fallback;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || it->value.IsNull())
    return fallback;
  return text_of(it->value);
}

double number_of(const json_value& v, const char* key) {
  if (!v.IsObject())
    return 0;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsNumber())
    return 0;
  return it->value.GetDouble();
}

std::string duration(double ms) {
  if (ms < 0)
    ms = 0;
  char buf[32];
  auto s = static_cast<long long>(ms / 1000);
  if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  else if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
  return buf;
}

std::string rate(double per_second) {
  char buf[32];
  if (per_second >= 1000)
    std::snprintf(buf, sizeof buf, "%.0f", per_second);
  else
    std::snprintf(buf, sizeof buf, "%.1f", per_second);
  return buf;
}

std::string integer(double n) {
  return std::to_string(static_cast<long long>(std::llround(n)));
}

std::string clock_time(double ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string joined(const json_value& v, const char* key) {
  if (!v.IsObject())
    return "-";
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray() || it->value.Empty())
    return "-";
  std::string out;
  for (auto& item : it->value.GetArray()) {
    if (!out.empty())
      out += ", ";
    out += text_of(item);
  }
  return out;
}

std::string clip(const std::string& text, std::size_t width) {
  if (columns(text) <= width)
    return text;
  std::string out;
  std::size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80 && ++n > width - 1)
      break;
    out += static_cast<char>(c);
  }
  return out + "\u2026";
}

} // namespace herald::ctl
