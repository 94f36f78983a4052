// The admin API's parsers (docs/console.md, protocol/admin_query.*). The
// first byte picks what the rest is:
// 0: a query string as lines `name=value`, for parse_page_query (with and
//    without `kind`) and parse_count on each value;
// 1: a request as it travels between nodes: decode_request, and what
//    decodes survives encode and decode unchanged (after the first trip);
// 2: other nodes' answers, one per line, merged by merge_pages and
//    merge_items into one JSON answer.

#include "fuzz.hpp"

#include "protocol/admin_query.hpp"

#include <algorithm>
#include <map>
#include <string>

using namespace herald::protocol::admin;

namespace {

const sort_keys actor_keys{{"id", "mailbox", "rate", "handled", "age"},
                           {"mailbox", "rate", "handled", "age"}};

void page_queries(std::string_view text) {
  std::multimap<std::string, std::string> values;
  for (auto line : herald::fuzz::split(text, '\n', 32)) {
    auto parts = herald::fuzz::split(line, '=', 2);
    values.emplace(std::string{parts[0]},
                   std::string{parts.size() > 1 ? parts[1] : ""});
    if (auto n = parse_count(parts.back())) {
      HERALD_FUZZ_CHECK(parts.back().size() <= 19);
      HERALD_FUZZ_CHECK(std::to_string(*n).size() <= parts.back().size());
    }
  }
  param_lookup params = [&](std::string_view name) {
    std::vector<std::string> out;
    auto [b, e] = values.equal_range(std::string{name});
    for (auto i = b; i != e; ++i)
      out.push_back(i->second);
    return out;
  };
  for (bool with_kinds : {true, false}) {
    auto q = parse_page_query(params, actor_keys, with_kinds);
    if (auto* why = std::get_if<std::string>(&q)) {
      HERALD_FUZZ_CHECK(!why->empty());
      continue;
    }
    auto& p = std::get<page_query>(q);
    HERALD_FUZZ_CHECK(p.limit >= 1 && p.limit <= max_limit);
    HERALD_FUZZ_CHECK(
        std::count(actor_keys.keys.begin(), actor_keys.keys.end(), p.sort)
        == 1);
    for (auto& k : p.kinds)
      HERALD_FUZZ_CHECK(std::count(kind_names().begin(), kind_names().end(), k)
                        == 1);
  }
}

bool same(const request& a, const request& b) {
  return a.op == b.op && a.page.kinds == b.page.kinds
         && a.page.node == b.page.node && a.page.name == b.page.name
         && a.page.sort == b.page.sort && a.page.descending == b.page.descending
         && a.page.offset == b.page.offset && a.page.limit == b.page.limit
         && a.id == b.id && a.arg == b.arg && a.body == b.body
         && a.who == b.who;
}

void requests(std::string_view text) {
  auto req = decode_request(text);
  if (!req)
    return;
  HERALD_FUZZ_CHECK(!req->op.empty() && req->page.limit <= max_limit);
  // Encoding writes invalid UTF-8 as U+FFFD, so the first trip may change
  // strings; from then on a request travels unchanged.
  auto encoded = encode_request(*req);
  auto again = decode_request(encoded);
  HERALD_FUZZ_CHECK(again && again->op.size() >= 1);
  auto twice = decode_request(encode_request(*again));
  HERALD_FUZZ_CHECK(twice && same(*again, *twice));
  HERALD_FUZZ_CHECK(encode_request(*twice) == encode_request(*again));
}

void merges(std::string_view text) {
  std::vector<std::string> answers;
  for (auto line : herald::fuzz::split(text, '\n', 8))
    answers.emplace_back(line);
  std::vector<std::string> nodes{"a", "b"};
  std::vector<std::string> missing{"c"};
  page_query q;
  q.offset = 1;
  q.limit = 3;
  for (auto key : {"id", "mailbox", "age"}) {
    q.sort = key;
    q.descending = !q.descending;
    HERALD_FUZZ_CHECK(
        herald::fuzz::is_json(merge_pages(answers, q, nodes, missing)));
  }
  HERALD_FUZZ_CHECK(
      herald::fuzz::is_json(merge_items(answers, nodes, missing, {"layers"})));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = herald::fuzz::text_of(data + 1, size - 1);
  switch (data[0] % 3) {
  case 0:
    page_queries(text);
    break;
  case 1:
    requests(text);
    break;
  default:
    merges(text);
  }
  return 0;
}
