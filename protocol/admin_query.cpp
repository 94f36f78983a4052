#include "protocol/admin_query.hpp"

#include "protocol/json_util.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstring>

namespace herald::protocol::admin {

namespace {

using value_t = rapidjson::Value;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The last value of a parameter, or none.
std::optional<std::string> last(const param_lookup& params,
                                std::string_view name) {
  auto values = params(name);
  if (values.empty())
    return std::nullopt;
  return values.back();
}

void write_strings(json_writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (auto& s : items)
    write_json_string(w, s);
  w.EndArray();
}

std::string get_string(const value_t& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString())
    return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

uint64_t get_count(const value_t& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsUint64())
    return 0;
  return it->value.GetUint64();
}

// Orders two items by `field` (numbers by value, strings by text; an item
// without the field first), then node, then id.
int compare_field(const value_t& a, const value_t& b, const char* field) {
  auto ia = a.FindMember(field);
  auto ib = b.FindMember(field);
  bool ha = ia != a.MemberEnd();
  bool hb = ib != b.MemberEnd();
  if (!ha || !hb)
    return ha == hb ? 0 : (ha ? 1 : -1);
  auto& va = ia->value;
  auto& vb = ib->value;
  if (va.IsNumber() && vb.IsNumber()) {
    double x = va.GetDouble();
    double y = vb.GetDouble();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (va.IsString() && vb.IsString()) {
    auto r = std::strcmp(va.GetString(), vb.GetString());
    return r < 0 ? -1 : (r > 0 ? 1 : 0);
  }
  return 0;
}

} // namespace

std::optional<uint64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 19)
    return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names{
      "connection", "topic",      "router", "channel",  "monitor",
      "node",       "supervisor", "store",  "inspector"};
  return names;
}

std::variant<page_query, std::string>
parse_page_query(const param_lookup& params, const sort_keys& keys,
                 bool with_kinds) {
  page_query q;
  if (with_kinds) {
    for (auto& value : params("kind")) {
      std::size_t start = 0;
      while (start <= value.size()) {
        auto comma = value.find(',', start);
        auto item =
            value.substr(start, comma == std::string::npos ? std::string::npos
                                                           : comma - start);
        if (!item.empty()) {
          if (!contains(kind_names(), item))
            return "kind: unknown kind '" + item
                   + "' (connection, topic, router, channel, monitor, node, "
                     "supervisor, store, inspector)";
          if (!contains(q.kinds, item))
            q.kinds.push_back(item);
        }
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
    }
  }
  q.node = last(params, "node").value_or("");
  q.name = last(params, "name").value_or("");
  if (auto pattern = last(params, "pattern"); pattern && q.name.empty())
    q.name = *pattern;
  q.sort = keys.keys.front();
  if (auto sort = last(params, "sort")) {
    if (!contains(keys.keys, *sort)) {
      std::string allowed;
      for (auto& k : keys.keys)
        allowed += (allowed.empty() ? "" : ", ") + k;
      return "sort: unknown key '" + *sort + "' (" + allowed + ")";
    }
    q.sort = *sort;
  }
  q.descending = contains(keys.descending, q.sort);
  if (auto order = last(params, "order")) {
    if (*order != "asc" && *order != "desc")
      return "order: must be asc or desc, got '" + *order + "'";
    q.descending = *order == "desc";
  }
  if (auto offset = last(params, "offset")) {
    auto n = parse_count(*offset);
    if (!n)
      return "offset: must be a whole number, got '" + *offset + "'";
    q.offset = *n;
  }
  if (auto limit = last(params, "limit")) {
    auto n = parse_count(*limit);
    if (!n || *n < 1 || *n > max_limit)
      return "limit: must be a whole number from 1 to "
             + std::to_string(max_limit) + ", got '" + *limit + "'";
    q.limit = *n;
  }
  return q;
}

std::string sort_field(const std::string& key) {
  if (key == "age")
    return "age_ms";
  return key;
}

std::string encode_request(const request& req) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("op");
  write_json_string(w, req.op);
  w.Key("kinds");
  write_strings(w, req.page.kinds);
  w.Key("node");
  write_json_string(w, req.page.node);
  w.Key("name");
  write_json_string(w, req.page.name);
  w.Key("sort");
  write_json_string(w, req.page.sort);
  w.Key("desc");
  w.Bool(req.page.descending);
  w.Key("offset");
  w.Uint64(req.page.offset);
  w.Key("limit");
  w.Uint64(req.page.limit);
  w.Key("id");
  w.Uint64(req.id);
  w.Key("arg");
  write_json_string(w, req.arg);
  w.Key("body");
  write_json_string(w, req.body);
  w.Key("who");
  write_json_string(w, req.who);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::optional<request> decode_request(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::nullopt;
  request req;
  req.op = get_string(doc, "op");
  if (req.op.empty())
    return std::nullopt;
  if (auto it = doc.FindMember("kinds");
      it != doc.MemberEnd() && it->value.IsArray())
    for (auto& k : it->value.GetArray())
      if (k.IsString())
        req.page.kinds.emplace_back(k.GetString(), k.GetStringLength());
  req.page.node = get_string(doc, "node");
  req.page.name = get_string(doc, "name");
  req.page.sort = get_string(doc, "sort");
  if (auto it = doc.FindMember("desc");
      it != doc.MemberEnd() && it->value.IsBool())
    req.page.descending = it->value.GetBool();
  req.page.offset = get_count(doc, "offset");
  req.page.limit = std::min<uint64_t>(get_count(doc, "limit"), max_limit);
  req.id = get_count(doc, "id");
  req.arg = get_string(doc, "arg");
  req.body = get_string(doc, "body");
  req.who = get_string(doc, "who");
  return req;
}

std::string coverage_members(const std::vector<std::string>& nodes,
                             const std::vector<std::string>& missing) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  // A fragment: write an object and strip its braces.
  w.StartObject();
  w.Key("nodes");
  write_strings(w, nodes);
  w.Key("missing");
  write_strings(w, missing);
  w.Key("complete");
  w.Bool(missing.empty());
  w.EndObject();
  std::string out{buf.GetString() + 1, buf.GetSize() - 2};
  return out;
}

std::string merge_pages(const std::vector<std::string>& answers,
                        const page_query& q,
                        const std::vector<std::string>& nodes,
                        const std::vector<std::string>& missing) {
  std::vector<rapidjson::Document> docs(answers.size());
  std::vector<const value_t*> items;
  uint64_t total = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    auto& doc = docs[i];
    doc.Parse(answers[i].data(), answers[i].size());
    if (doc.HasParseError() || !doc.IsObject())
      continue;
    total += get_count(doc, "total");
    auto it = doc.FindMember("items");
    if (it == doc.MemberEnd() || !it->value.IsArray())
      continue;
    for (auto& item : it->value.GetArray())
      if (item.IsObject())
        items.push_back(&item);
  }
  auto field = sort_field(q.sort);
  std::stable_sort(items.begin(), items.end(),
                   [&](const value_t* a, const value_t* b) {
                     int r = compare_field(*a, *b, field.c_str());
                     if (q.descending)
                       r = -r;
                     if (r == 0)
                       r = compare_field(*a, *b, "node");
                     if (r == 0)
                       r = compare_field(*a, *b, "id");
                     return r < 0;
                   });
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("total");
  w.Uint64(total);
  w.Key("offset");
  w.Uint64(q.offset);
  w.Key("limit");
  w.Uint64(q.limit);
  w.Key("items");
  w.StartArray();
  for (uint64_t i = q.offset; i < items.size() && i < q.offset + q.limit; ++i)
    items[i]->Accept(w);
  w.EndArray();
  w.EndObject();
  std::string out{buf.GetString(), buf.GetSize() - 1};
  return out + "," + coverage_members(nodes, missing) + "}";
}

std::string merge_items(const std::vector<std::string>& answers,
                        const std::vector<std::string>& nodes,
                        const std::vector<std::string>& missing,
                        const std::vector<std::string>& extra_arrays) {
  std::vector<rapidjson::Document> docs(answers.size());
  for (std::size_t i = 0; i < answers.size(); ++i)
    docs[i].Parse(answers[i].data(), answers[i].size());
  auto usable = [](const rapidjson::Document& d) {
    return !d.HasParseError() && d.IsObject();
  };
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (auto& doc : docs) {
    if (!usable(doc))
      continue;
    auto it = doc.FindMember("items");
    if (it != doc.MemberEnd() && it->value.IsArray()) {
      for (auto& item : it->value.GetArray())
        item.Accept(w);
    } else {
      doc.Accept(w);
    }
  }
  w.EndArray();
  for (auto& key : extra_arrays) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.StartArray();
    for (auto& doc : docs) {
      if (!usable(doc))
        continue;
      auto it = doc.FindMember(key.c_str());
      if (it != doc.MemberEnd() && it->value.IsArray())
        for (auto& item : it->value.GetArray())
          item.Accept(w);
    }
    w.EndArray();
  }
  w.EndObject();
  std::string out{buf.GetString(), buf.GetSize() - 1};
  return out + "," + coverage_members(nodes, missing) + "}";
}

} // namespace herald::protocol::admin
