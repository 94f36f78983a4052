#define CAF_SUITE protocol.admin_query
#include <caf/test/unit_test.hpp>

#include "protocol/admin_query.hpp"

#include <rapidjson/document.h>

#include <map>

using namespace herald::protocol::admin;

namespace {

const sort_keys actor_keys{{"id", "mailbox", "rate", "handled", "age"},
                           {"mailbox", "rate", "handled", "age"}};

// A query string as the HTTP layer hands it over: name -> values.
param_lookup params(std::multimap<std::string, std::string> values) {
  return [values](std::string_view name) {
    std::vector<std::string> out;
    auto [b, e] = values.equal_range(std::string{name});
    for (auto i = b; i != e; ++i)
      out.push_back(i->second);
    return out;
  };
}

std::string parse_error(std::multimap<std::string, std::string> values) {
  auto q = parse_page_query(params(std::move(values)), actor_keys, true);
  auto* why = std::get_if<std::string>(&q);
  return why ? *why : std::string{};
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  CAF_REQUIRE(!doc.HasParseError());
  return doc;
}

} // namespace

CAF_TEST(a listing query takes kinds and filters and a sort key an order and a
             page) {
  auto q = parse_page_query(params({{"kind", "connection,topic"},
                                    {"kind", "topic"},
                                    {"name", "u1"},
                                    {"node", "b"},
                                    {"sort", "mailbox"},
                                    {"offset", "200"},
                                    {"limit", "50"}}),
                            actor_keys, true);
  auto& p = std::get<page_query>(q);
  CAF_CHECK_EQUAL(p.kinds.size(), 2u);
  CAF_CHECK_EQUAL(p.name, "u1");
  CAF_CHECK_EQUAL(p.node, "b");
  CAF_CHECK_EQUAL(p.sort, "mailbox");
  CAF_CHECK(p.descending); // the figures sort high to low by default
  CAF_CHECK_EQUAL(p.offset, 200u);
  CAF_CHECK_EQUAL(p.limit, 50u);
  auto plain =
      std::get<page_query>(parse_page_query(params({}), actor_keys, true));
  CAF_CHECK_EQUAL(plain.sort, "id");
  CAF_CHECK(!plain.descending);
  CAF_CHECK_EQUAL(plain.limit, default_limit);
  auto up = std::get<page_query>(parse_page_query(
      params({{"sort", "rate"}, {"order", "asc"}}), actor_keys, true));
  CAF_CHECK(!up.descending);
}

CAF_TEST(bad listing parameters are refused by name) {
  CAF_CHECK_EQUAL(parse_error({{"kind", "widget"}}).rfind("kind:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"sort", "bogus"}}).rfind("sort:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"order", "up"}}).rfind("order:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"offset", "-1"}}).rfind("offset:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"limit", "0"}}).rfind("limit:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"limit", "1001"}}).rfind("limit:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"limit", "x"}}).rfind("limit:", 0), 0u);
  CAF_CHECK_EQUAL(parse_error({{"limit", "1000"}}), "");
}

CAF_TEST(a request survives its trip between nodes) {
  request req;
  req.op = "actors";
  req.page.kinds = {"connection"};
  req.page.node = "b";
  req.page.name = "a\"b";
  req.page.sort = "rate";
  req.page.descending = true;
  req.page.offset = 7;
  req.page.limit = 9;
  req.id = 42;
  req.arg = "why";
  req.body = R"({"on":true})";
  req.who = "ops";
  auto back = decode_request(encode_request(req));
  CAF_REQUIRE(back.has_value());
  CAF_CHECK_EQUAL(back->op, "actors");
  CAF_CHECK_EQUAL(back->page.kinds.front(), "connection");
  CAF_CHECK_EQUAL(back->page.node, "b");
  CAF_CHECK_EQUAL(back->page.name, "a\"b");
  CAF_CHECK(back->page.descending);
  CAF_CHECK_EQUAL(back->page.offset, 7u);
  CAF_CHECK_EQUAL(back->page.limit, 9u);
  CAF_CHECK_EQUAL(back->id, 42u);
  CAF_CHECK_EQUAL(back->body, R"({"on":true})");
  CAF_CHECK_EQUAL(back->who, "ops");
  CAF_CHECK(!decode_request("not json"));
  CAF_CHECK(!decode_request(R"({"op":""})"));
}

CAF_TEST(pages of several nodes merge into one ordered page of the cluster) {
  page_query q;
  q.sort = "mailbox";
  q.descending = true;
  q.offset = 1;
  q.limit = 3;
  std::vector<std::string> answers{
      R"({"node":"a","total":10,"items":[{"node":"a","id":1,"mailbox":9},{"node":"a","id":2,"mailbox":3}]})",
      R"({"node":"b","total":5,"items":[{"node":"b","id":1,"mailbox":7},{"node":"b","id":9,"mailbox":3}]})",
      "not json"};
  auto doc = parse(merge_pages(answers, q, {"a", "b", "c"}, {"c"}));
  CAF_CHECK_EQUAL(doc["total"].GetUint64(), 15u);
  auto items = doc["items"].GetArray();
  CAF_REQUIRE_EQUAL(items.Size(), 3u);
  // 9 (a/1) is skipped by the offset; then 7 (b/1), then the 3s by node.
  CAF_CHECK_EQUAL(std::string{items[0]["node"].GetString()}, "b");
  CAF_CHECK_EQUAL(items[0]["mailbox"].GetInt(), 7);
  CAF_CHECK_EQUAL(std::string{items[1]["node"].GetString()}, "a");
  CAF_CHECK_EQUAL(items[1]["id"].GetInt(), 2);
  CAF_CHECK_EQUAL(std::string{items[2]["node"].GetString()}, "b");
  CAF_CHECK_EQUAL(items[2]["id"].GetInt(), 9);
  CAF_CHECK_EQUAL(doc["nodes"].Size(), 3u);
  CAF_CHECK_EQUAL(std::string{doc["missing"][0].GetString()}, "c");
  CAF_CHECK(!doc["complete"].GetBool());
}

CAF_TEST(answers without pages are gathered with their extra arrays) {
  std::vector<std::string> answers{
      R"({"node":"a","items":[{"name":"db","node":"a"}],"layers":[{"node":"a"}]})",
      R"({"node":"b","on":true})"};
  auto doc = parse(merge_items(answers, {"a", "b"}, {}, {"layers"}));
  CAF_CHECK_EQUAL(doc["items"].Size(), 2u);
  CAF_CHECK_EQUAL(std::string{doc["items"][1]["node"].GetString()}, "b");
  CAF_CHECK_EQUAL(doc["layers"].Size(), 1u);
  CAF_CHECK(doc["complete"].GetBool());
  CAF_CHECK(!parse(merge_items(answers, {"a"}, {})).HasMember("layers"));
}
