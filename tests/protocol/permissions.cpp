#define CAF_SUITE protocol.permissions
#include <caf/test/unit_test.hpp>

#include "protocol/permissions.hpp"

#include <string>

using namespace herald::protocol;

namespace {

constexpr auto allowed = permission_result::allowed;
constexpr auto invalid = permission_result::invalid_topic;
constexpr auto denied = permission_result::denied;

// A customer admin of c1 who also owns agents a1 and a2.
identity admin_of_c1() {
  identity who;
  who.sub = "u1";
  who.customer_id = "c1";
  who.roles = {"admin"};
  who.agent_ids = {"a1", "a2"};
  return who;
}

permission_result
check(std::string_view pattern, const identity& who,
      const permission_rules& rules = permission_rules::defaults()) {
  return check_subscribe(rules, pattern, who).result;
}

permission_rules parse_ok(std::string_view text) {
  auto res = permission_rules::from_json(text);
  if (auto err = std::get_if<std::string>(&res))
    CAF_FAIL("from_json failed: " << *err);
  return std::get<permission_rules>(std::move(res));
}

std::string parse_err(std::string_view text) {
  auto res = permission_rules::from_json(text);
  if (auto err = std::get_if<std::string>(&res))
    return *err;
  CAF_FAIL("from_json accepted: " << std::string{text});
  return {};
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

// The permission result enum has no operator<< for the test log.
namespace herald::protocol {
static std::string to_string(permission_result r) {
  switch (r) {
  case permission_result::allowed:
    return "allowed";
  case permission_result::invalid_topic:
    return "invalid_topic";
  default:
    return "denied";
  }
}
} // namespace herald::protocol

CAF_TEST(defaults reproduce the seed) {
  auto rules = permission_rules::defaults();
  CAF_CHECK_EQUAL(rules.resource_types.size(), 8u);
  CAF_REQUIRE_EQUAL(rules.rules.size(), 3u);
  CAF_CHECK_EQUAL(rules.rules[0].scope, "customer_id");
  CAF_CHECK_EQUAL(rules.rules[1].scope, "agent_id");
  CAF_CHECK_EQUAL(rules.rules[2].scope, "system");
}

CAF_TEST(the system scope is for admins with its own resource types) {
  auto admin = admin_of_c1();
  CAF_CHECK_EQUAL(check("system:core:service:db", admin), allowed);
  CAF_CHECK_EQUAL(check("system:core:layer:status", admin), allowed);
  CAF_CHECK_EQUAL(check("system:node:maintenance:status", admin), allowed);
  CAF_CHECK_EQUAL(check("system:node:error:recent", admin), allowed);
  // Its types are its own: not valid elsewhere, nor the seed's here.
  CAF_CHECK_EQUAL(check("customer_id:c1:service:*", admin),
                  permission_result::invalid_topic);
  CAF_CHECK_EQUAL(check("system:core:call:*", admin),
                  permission_result::invalid_topic);
  identity agent;
  agent.sub = "u2";
  agent.agent_ids = {"a1"};
  CAF_CHECK_EQUAL(check("system:core:service:db", agent), denied);
}

CAF_TEST(a rule may carry its own resource types) {
  auto rules = parse_ok(R"({"rules":[{"scope":"ops","resource_types":["probe"],
      "all_of":[]}]})");
  identity anyone;
  anyone.sub = "u";
  CAF_CHECK_EQUAL(check("ops:x:probe:1", anyone, rules), allowed);
  CAF_CHECK_EQUAL(check("ops:x:call:1", anyone, rules),
                  permission_result::invalid_topic);
  auto bad = permission_rules::from_json(
      R"({"rules":[{"scope":"ops","resource_types":[1],"all_of":[]}]})");
  CAF_REQUIRE(std::holds_alternative<std::string>(bad));
  CAF_CHECK_EQUAL(
      std::get<std::string>(bad).rfind("rules[0].resource_types[0]", 0), 0u);
}

CAF_TEST(customer scope) {
  auto who = admin_of_c1();
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", who), allowed);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:x1", who), allowed);
  CAF_CHECK_EQUAL(check("customer_id:c1:message:*", who), allowed);
  CAF_CHECK_EQUAL(check("customer_id:c1:transcription:*", who), allowed);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:>", who), allowed);
  CAF_CHECK_EQUAL(check("customer_id:c1:call", who), allowed);
  // Another customer.
  CAF_CHECK_EQUAL(check("customer_id:c2:call:*", who), denied);
  // Manager is as good as admin; any other role is not.
  who.roles = {"agent", "manager"};
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", who), allowed);
  who.roles = {"agent"};
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", who), denied);
  who.roles.clear();
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", who), denied);
  // Right role, no customer.
  auto no_customer = admin_of_c1();
  no_customer.customer_id.clear();
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", no_customer), denied);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", identity{}), denied);
}

CAF_TEST(agent scope) {
  auto who = admin_of_c1();
  CAF_CHECK_EQUAL(check("agent_id:a1:queue:*", who), allowed);
  CAF_CHECK_EQUAL(check("agent_id:a2:call:*", who), allowed);
  CAF_CHECK_EQUAL(check("agent_id:a2:agent:a2", who), allowed);
  CAF_CHECK_EQUAL(check("agent_id:a9:queue:*", who), denied);
  who.agent_ids.clear();
  CAF_CHECK_EQUAL(check("agent_id:a1:queue:*", who), denied);
}

CAF_TEST(invalid topics) {
  auto who = admin_of_c1();
  // Syntax (§2).
  CAF_CHECK_EQUAL(check("", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1::*", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:x*", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:>:x", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c 1:call:*", who), invalid);
  // Scope rules (§3).
  CAF_CHECK_EQUAL(check("tenant_id:t1:call:*", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:invoice:*", who), invalid);
  CAF_CHECK_EQUAL(check("*:c1:call:*", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:*:call:*", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:*:*", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:>", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:>", who), invalid);
  CAF_CHECK_EQUAL(check(">", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1", who), invalid);
  CAF_CHECK_EQUAL(check("customer_id", who), invalid);
  // Invalid wins over denied: the check never reaches the claims.
  CAF_CHECK_EQUAL(check("customer_id:c2:invoice:*", who), invalid);
}

CAF_TEST(verdict messages) {
  auto rules = permission_rules::defaults();
  auto who = admin_of_c1();
  auto v = check_subscribe(rules, "customer_id:c1:call:*", who);
  CAF_CHECK(v.message.empty());
  v = check_subscribe(rules, "tenant_id:t1:call:*", who);
  CAF_CHECK_EQUAL(v.message, "unknown scope 'tenant_id'");
  v = check_subscribe(rules, "customer_id:c1:invoice:*", who);
  CAF_CHECK_EQUAL(v.message, "unknown resource type 'invoice'");
  v = check_subscribe(rules, "customer_id:*:call:*", who);
  CAF_CHECK_EQUAL(v.message, "wildcard not allowed in the scope id");
  v = check_subscribe(rules, "customer_id:c1:call:a*", who);
  CAF_CHECK(starts_with(v.message, "invalid topic: segment 4"));
  v = check_subscribe(rules, "customer_id:c2:call:*", who);
  CAF_CHECK_EQUAL(v.result, denied);
  // Names the claim but does not echo values back to the client.
  CAF_CHECK(v.message.find("customer_id") != std::string::npos);
  CAF_CHECK(v.message.find("c2") == std::string::npos);
}

CAF_TEST(claims map wins over typed fields) {
  auto who = admin_of_c1();
  who.claims["customer_id"] = {"c7"};
  CAF_CHECK_EQUAL(check("customer_id:c7:call:*", who), allowed);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", who), denied);
  who.claims["roles"] = {"viewer"};
  CAF_CHECK_EQUAL(check("customer_id:c7:call:*", who), denied);
  // `equals` wants a single value; a list claim must use `contains`.
  who.claims["roles"] = {"admin"};
  who.claims["customer_id"] = {"c7", "c8"};
  CAF_CHECK_EQUAL(check("customer_id:c7:call:*", who), denied);
}

CAF_TEST(from_json empty object keeps the defaults) {
  auto rules = parse_ok("{}");
  CAF_CHECK_EQUAL(rules.resource_types,
                  permission_rules::defaults().resource_types);
  CAF_CHECK_EQUAL(rules.rules.size(), 3u);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", admin_of_c1(), rules),
                  allowed);
}

CAF_TEST(from_json custom rules) {
  auto rules = parse_ok(R"({
    "resource_types": ["orders", "invoices"],
    "rules": [
      {"scope": "tenant", "all_of": [
        {"claim": "tenant_id", "equals": "{scope_id}"},
        {"claim": "roles", "any_of": ["admin", "ops-{resource_type}"]}]},
      {"scope": "user", "all_of": [{"claim": "sub", "equals": "{2}"}]},
      {"scope": "team", "all_of": [{"claim": "teams", "contains": "{2}"}]},
      {"scope": "item", "all_of": [
        {"claim": "items", "contains": "{resource_id}"}]},
      {"scope": "public", "all_of": []}
    ]})");
  CAF_CHECK_EQUAL(rules.resource_types.size(), 2u);
  CAF_REQUIRE_EQUAL(rules.rules.size(), 5u);
  identity who;
  who.sub = "u1";
  who.tenant_id = "t1";
  who.roles = {"ops-orders"};
  who.claims["teams"] = {"red", "blue"};
  who.claims["items"] = {"i1"};
  CAF_CHECK_EQUAL(check("tenant:t1:orders:*", who, rules), allowed);
  // The variable inside a value: ops-invoices is not among the roles.
  CAF_CHECK_EQUAL(check("tenant:t1:invoices:*", who, rules), denied);
  CAF_CHECK_EQUAL(check("tenant:t2:orders:*", who, rules), denied);
  CAF_CHECK_EQUAL(check("tenant:t1:call:*", who, rules), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:orders:*", who, rules), invalid);
  CAF_CHECK_EQUAL(check("user:u1:orders:>", who, rules), allowed);
  CAF_CHECK_EQUAL(check("user:u2:orders:>", who, rules), denied);
  CAF_CHECK_EQUAL(check("team:blue:invoices:*", who, rules), allowed);
  CAF_CHECK_EQUAL(check("team:green:invoices:*", who, rules), denied);
  // {resource_id} must be concrete: a wildcard or a missing segment denies.
  CAF_CHECK_EQUAL(check("item:x:orders:i1", who, rules), allowed);
  CAF_CHECK_EQUAL(check("item:x:orders:*", who, rules), denied);
  CAF_CHECK_EQUAL(check("item:x:orders", who, rules), denied);
  CAF_CHECK_EQUAL(check("public:x:orders:*", identity{}, rules), allowed);
}

CAF_TEST(from_json empty resource types allows any) {
  auto rules =
      parse_ok(R"({"resource_types":[],"rules":[{"scope":"s","all_of":[]}]})");
  CAF_CHECK(rules.resource_types.empty());
  CAF_CHECK_EQUAL(check("s:1:anything:*", identity{}, rules), allowed);
  CAF_CHECK_EQUAL(check("s:1:*:*", identity{}, rules), invalid);
  CAF_CHECK_EQUAL(check("customer_id:c1:call:*", admin_of_c1(), rules),
                  invalid);
}

CAF_TEST(from_json errors name the entry) {
  CAF_CHECK(starts_with(parse_err(""), "invalid JSON at offset 0"));
  CAF_CHECK(starts_with(parse_err("{\"rules\":[}"), "invalid JSON"));
  CAF_CHECK(starts_with(parse_err("{} x"), "invalid JSON"));
  CAF_CHECK_EQUAL(parse_err("[]"), "expected an object");
  CAF_CHECK_EQUAL(parse_err(R"({"rulez":[]})"), "rulez: unknown key");
  CAF_CHECK_EQUAL(parse_err(R"({"rules":{}})"), "rules: expected an array");
  CAF_CHECK_EQUAL(parse_err(R"({"resource_types":"call"})"),
                  "resource_types: expected an array of strings");
  CAF_CHECK_EQUAL(parse_err(R"({"resource_types":["call",3]})"),
                  "resource_types[1]: expected a string");
  CAF_CHECK(starts_with(parse_err(R"({"resource_types":["a:b"]})"),
                        "resource_types[0]: expected a single segment"));
  CAF_CHECK(starts_with(parse_err(R"({"resource_types":["*"]})"),
                        "resource_types[0]: invalid segment"));
  CAF_CHECK_EQUAL(parse_err(R"({"resource_types":["call","call"]})"),
                  "resource_types[1]: duplicate resource type 'call'");
  CAF_CHECK_EQUAL(parse_err(R"({"rules":[1]})"),
                  "rules[0]: expected an object");
  CAF_CHECK_EQUAL(parse_err(R"({"rules":[{"all_of":[]}]})"),
                  "rules[0]: missing 'scope'");
  CAF_CHECK_EQUAL(parse_err(R"({"rules":[{"scope":"s"}]})"),
                  "rules[0]: missing 'all_of'");
  CAF_CHECK(starts_with(parse_err(R"({"rules":[{"scope":"s:t","all_of":[]}]})"),
                        "rules[0].scope: "));
  CAF_CHECK_EQUAL(parse_err(R"({"rules":[{"scope":"s","all_of":[],"x":1}]})"),
                  "rules[0]: unknown key 'x'");
  CAF_CHECK_EQUAL(
      parse_err(
          R"({"rules":[{"scope":"s","all_of":[]},{"scope":"s","all_of":[]}]})"),
      "rules[1].scope: duplicate scope 's'");
  CAF_CHECK_EQUAL(parse_err(R"({"rules":[{"scope":"s","all_of":{}}]})"),
                  "rules[0].all_of: expected an array");
  auto rule1 = [](std::string cond) {
    return R"({"rules":[{"scope":"a","all_of":[]},{"scope":"b","all_of":[)"
           + cond + "]}]}";
  };
  CAF_CHECK(starts_with(parse_err(rule1(R"({"claim":"x","matches":"y"})")),
                        "rules[1].all_of[0]: unknown operator 'matches'"));
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"equals":"y"})")),
                  "rules[1].all_of[0]: missing 'claim'");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x"})")),
                  "rules[1].all_of[0]: needs exactly one of equals, contains, "
                  "any_of");
  CAF_CHECK_EQUAL(
      parse_err(rule1(R"({"claim":"x","equals":"a","contains":"b"})")),
      "rules[1].all_of[0]: needs exactly one of equals, contains, "
      "any_of");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"","equals":"a"})")),
                  "rules[1].all_of[0].claim: expected a non-empty string");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","equals":1})")),
                  "rules[1].all_of[0].equals: expected a string");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","contains":""})")),
                  "rules[1].all_of[0].contains: empty value");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","any_of":[]})")),
                  "rules[1].all_of[0].any_of: expected a non-empty array of "
                  "strings");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","any_of":["a",2]})")),
                  "rules[1].all_of[0].any_of[1]: expected a string");
  CAF_CHECK_EQUAL(parse_err(rule1(R"(1)")),
                  "rules[1].all_of[0]: expected an object");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","equals":"{scope}"},
                                     {"claim":"x","equals":"{foo}"})")),
                  "rules[1].all_of[1].equals: unknown variable {foo}");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","equals":"{17}"})")),
                  "rules[1].all_of[0].equals: unknown variable {17}");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","equals":"{0}"})")),
                  "rules[1].all_of[0].equals: unknown variable {0}");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","equals":"{scope_id"})")),
                  "rules[1].all_of[0].equals: unterminated '{'");
  CAF_CHECK_EQUAL(parse_err(rule1(R"({"claim":"x","equals":"a}"})")),
                  "rules[1].all_of[0].equals: unbalanced '}'");
  // Every numbered variable up to 16 is accepted.
  parse_ok(rule1(R"({"claim":"x","any_of":["{1}","{9}","{10}","{16}"]})"));
}
