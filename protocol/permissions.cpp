#include "protocol/permissions.hpp"

#include "protocol/topic.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace herald::protocol {

namespace {

// -- variables ----------------------------------------------------------------

// Maps a variable name (without braces) to a 0-based segment index, or -1.
int variable_index(std::string_view name) {
  static constexpr std::array<std::string_view, 4> named{
      "scope", "scope_id", "resource_type", "resource_id"};
  for (std::size_t i = 0; i < named.size(); ++i)
    if (name == named[i])
      return static_cast<int>(i);
  if (name.empty() || name.size() > 2)
    return -1;
  int n = 0;
  for (char ch : name) {
    if (ch < '0' || ch > '9')
      return -1;
    n = n * 10 + (ch - '0');
  }
  if (n < 1 || n > static_cast<int>(max_topic_segments) || name[0] == '0')
    return -1;
  return n - 1;
}

// Checks the `{...}` references in a rule value; empty on success.
std::string check_variables(std::string_view value) {
  for (std::size_t pos = 0; pos < value.size();) {
    auto open = value.find_first_of("{}", pos);
    if (open == std::string_view::npos)
      break;
    if (value[open] == '}')
      return "unbalanced '}'";
    auto close = value.find('}', open);
    if (close == std::string_view::npos)
      return "unterminated '{'";
    auto name = value.substr(open + 1, close - open - 1);
    if (variable_index(name) < 0)
      return "unknown variable {" + std::string{name} + "}";
    pos = close + 1;
  }
  return {};
}

// Substitutes the topic's segments into `value`. Returns false when a
// variable names a segment the pattern does not have (the condition then
// cannot hold).
bool expand(std::string_view value, const topic_segments& segs,
            std::string& out) {
  out.clear();
  for (std::size_t pos = 0; pos < value.size();) {
    auto open = value.find('{', pos);
    if (open == std::string_view::npos) {
      out.append(value.substr(pos));
      break;
    }
    auto close = value.find('}', open);
    if (close == std::string_view::npos)
      return false;
    out.append(value.substr(pos, open - pos));
    auto index = variable_index(value.substr(open + 1, close - open - 1));
    if (index < 0 || static_cast<std::size_t>(index) >= segs.size())
      return false;
    out.append(segs[static_cast<std::size_t>(index)]);
    pos = close + 1;
  }
  return true;
}

// -- claims -------------------------------------------------------------------

// The values of one claim: the generic map first, then the typed fields the
// JWT layer fills. An empty typed scalar counts as absent.
struct claim_values {
  const std::vector<std::string>* list = nullptr;
  const std::string* one = nullptr;

  template <class F>
  bool any(F&& pred) const {
    if (one != nullptr)
      return pred(*one);
    if (list != nullptr)
      return std::any_of(list->begin(), list->end(), pred);
    return false;
  }

  std::size_t count() const {
    return one != nullptr ? 1 : list != nullptr ? list->size() : 0;
  }
};

claim_values lookup(const identity& who, const std::string& claim) {
  claim_values out;
  if (auto i = who.claims.find(claim); i != who.claims.end()) {
    out.list = &i->second;
    return out;
  }
  auto scalar = [&](const std::string& field) {
    if (!field.empty())
      out.one = &field;
  };
  if (claim == "sub")
    scalar(who.sub);
  else if (claim == "customer_id")
    scalar(who.customer_id);
  else if (claim == "tenant_id")
    scalar(who.tenant_id);
  else if (claim == "org_id")
    scalar(who.org_id);
  else if (claim == "roles")
    out.list = &who.roles;
  else if (claim == "agent_ids")
    out.list = &who.agent_ids;
  return out;
}

bool holds(const claim_condition& cond, const topic_segments& segs,
           const identity& who) {
  auto values = lookup(who, cond.claim);
  std::string want;
  switch (cond.kind) {
  case claim_condition::op::equals:
    // A single-valued claim equal to the value; use `contains` for lists.
    return !cond.values.empty() && expand(cond.values[0], segs, want)
           && values.count() == 1
           && values.any([&](const std::string& v) { return v == want; });
  case claim_condition::op::contains:
    return !cond.values.empty() && expand(cond.values[0], segs, want)
           && values.any([&](const std::string& v) { return v == want; });
  case claim_condition::op::any_of:
    for (auto& candidate : cond.values)
      if (expand(candidate, segs, want)
          && values.any([&](const std::string& v) { return v == want; }))
        return true;
    return false;
  }
  return false;
}

const char* op_name(claim_condition::op kind) {
  switch (kind) {
  case claim_condition::op::equals:
    return "equals";
  case claim_condition::op::contains:
    return "contains";
  default:
    return "any_of";
  }
}

// -- JSON ---------------------------------------------------------------------

using json = rapidjson::Value;

std::string at(const std::string& path, const std::string& what) {
  return path + ": " + what;
}

std::string idx(const std::string& path, rapidjson::SizeType i) {
  return path + "[" + std::to_string(i) + "]";
}

// A literal segment for scopes and resource types: valid per §2, no
// wildcard. Empty on success.
std::string check_segment(const json& v) {
  if (!v.IsString())
    return "expected a string";
  std::string_view text{v.GetString(), v.GetStringLength()};
  topic_segments segs;
  std::string why;
  if (!parse_topic(text, segs, &why))
    return "invalid segment '" + std::string{text} + "': " + why;
  if (segs.size() != 1)
    return "expected a single segment, got '" + std::string{text} + "'";
  return {};
}

std::string parse_value(const json& v, const std::string& path,
                        std::string& out) {
  if (!v.IsString())
    return at(path, "expected a string");
  out.assign(v.GetString(), v.GetStringLength());
  if (out.empty())
    return at(path, "empty value");
  if (auto err = check_variables(out); !err.empty())
    return at(path, err);
  return {};
}

std::string parse_condition(const json& v, const std::string& path,
                            claim_condition& out) {
  if (!v.IsObject())
    return at(path, "expected an object");
  bool have_claim = false;
  int ops = 0;
  for (auto& m : v.GetObject()) {
    std::string key{m.name.GetString(), m.name.GetStringLength()};
    auto sub = path + "." + key;
    if (key == "claim") {
      if (!m.value.IsString() || m.value.GetStringLength() == 0)
        return at(sub, "expected a non-empty string");
      out.claim.assign(m.value.GetString(), m.value.GetStringLength());
      have_claim = true;
    } else if (key == "equals" || key == "contains") {
      ++ops;
      out.kind = key == "equals" ? claim_condition::op::equals
                                 : claim_condition::op::contains;
      out.values.resize(1);
      if (auto err = parse_value(m.value, sub, out.values[0]); !err.empty())
        return err;
    } else if (key == "any_of") {
      ++ops;
      out.kind = claim_condition::op::any_of;
      if (!m.value.IsArray() || m.value.Empty())
        return at(sub, "expected a non-empty array of strings");
      out.values.clear();
      for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
        std::string value;
        if (auto err = parse_value(m.value[i], idx(sub, i), value);
            !err.empty())
          return err;
        out.values.push_back(std::move(value));
      }
    } else {
      return at(path, "unknown operator '" + key
                          + "' (expected claim with one of equals, contains, "
                            "any_of)");
    }
  }
  if (!have_claim)
    return at(path, "missing 'claim'");
  if (ops != 1)
    return at(path, "needs exactly one of equals, contains, any_of");
  return {};
}

std::string parse_rule(const json& v, const std::string& path,
                       permission_rule& out) {
  if (!v.IsObject())
    return at(path, "expected an object");
  bool have_scope = false;
  bool have_all_of = false;
  for (auto& m : v.GetObject()) {
    std::string key{m.name.GetString(), m.name.GetStringLength()};
    auto sub = path + "." + key;
    if (key == "scope") {
      if (auto err = check_segment(m.value); !err.empty())
        return at(sub, err);
      out.scope.assign(m.value.GetString(), m.value.GetStringLength());
      have_scope = true;
    } else if (key == "all_of") {
      if (!m.value.IsArray())
        return at(sub, "expected an array");
      have_all_of = true;
      for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
        claim_condition cond;
        if (auto err = parse_condition(m.value[i], idx(sub, i), cond);
            !err.empty())
          return err;
        out.all_of.push_back(std::move(cond));
      }
    } else if (key == "resource_types") {
      if (!m.value.IsArray())
        return at(sub, "expected an array of strings");
      for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
        if (auto err = check_segment(m.value[i]); !err.empty())
          return at(idx(sub, i), err);
        out.resource_types.emplace_back(m.value[i].GetString(),
                                        m.value[i].GetStringLength());
      }
    } else {
      return at(path, "unknown key '" + key + "'");
    }
  }
  if (!have_scope)
    return at(path, "missing 'scope'");
  // A rule without conditions would open a scope to every client; make the
  // configuration say so with an explicit `"all_of": []`.
  if (!have_all_of)
    return at(path, "missing 'all_of'");
  return {};
}

} // namespace

permission_rules permission_rules::defaults() {
  permission_rules out;
  out.resource_types = {"call",  "message", "activeflow", "conference",
                        "queue", "agent",   "recording",  "transcription"};
  permission_rule customer;
  customer.scope = "customer_id";
  customer.all_of.push_back(
      {"customer_id", claim_condition::op::equals, {"{scope_id}"}});
  customer.all_of.push_back(
      {"roles", claim_condition::op::any_of, {"admin", "manager"}});
  permission_rule agent;
  agent.scope = "agent_id";
  agent.all_of.push_back(
      {"agent_ids", claim_condition::op::contains, {"{scope_id}"}});
  // system:<layer|node|chat>:<service|layer|maintenance|error|event>:<id>:
  // the node's own health topics (docs/monitors.md) and chat events
  // (docs/chat-events.md), for operators only, with their own resource
  // types so the list above stays the seed's.
  permission_rule system;
  system.scope = "system";
  system.resource_types = {"service", "layer", "maintenance", "error", "event"};
  system.all_of.push_back({"roles", claim_condition::op::any_of, {"admin"}});
  out.rules.push_back(std::move(customer));
  out.rules.push_back(std::move(agent));
  out.rules.push_back(std::move(system));
  return out;
}

std::variant<permission_rules, std::string>
permission_rules::from_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError())
    return std::string{"invalid JSON at offset "}
           + std::to_string(doc.GetErrorOffset()) + ": "
           + rapidjson::GetParseError_En(doc.GetParseError());
  if (!doc.IsObject())
    return std::string{"expected an object"};
  auto out = defaults();
  for (auto& m : doc.GetObject()) {
    std::string key{m.name.GetString(), m.name.GetStringLength()};
    if (key == "resource_types") {
      if (!m.value.IsArray())
        return at(key, "expected an array of strings");
      out.resource_types.clear();
      for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
        if (auto err = check_segment(m.value[i]); !err.empty())
          return at(idx(key, i), err);
        std::string type{m.value[i].GetString(), m.value[i].GetStringLength()};
        if (std::find(out.resource_types.begin(), out.resource_types.end(),
                      type)
            != out.resource_types.end())
          return at(idx(key, i), "duplicate resource type '" + type + "'");
        out.resource_types.push_back(std::move(type));
      }
    } else if (key == "rules") {
      if (!m.value.IsArray())
        return at(key, "expected an array");
      out.rules.clear();
      for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
        permission_rule rule;
        auto path = idx(key, i);
        if (auto err = parse_rule(m.value[i], path, rule); !err.empty())
          return err;
        for (auto& other : out.rules)
          if (other.scope == rule.scope)
            return at(path + ".scope", "duplicate scope '" + rule.scope + "'");
        out.rules.push_back(std::move(rule));
      }
    } else {
      return at(key, "unknown key");
    }
  }
  return out;
}

permission_verdict check_subscribe(const permission_rules& rules,
                                   std::string_view pattern,
                                   const identity& who) {
  auto invalid = [](std::string msg) {
    return permission_verdict{permission_result::invalid_topic, std::move(msg)};
  };
  topic_segments segs;
  std::string why;
  if (!parse_pattern(pattern, segs, &why))
    return invalid("invalid topic: " + why);
  if (segs.size() < 3)
    return invalid("a topic needs at least <scope>:<scope_id>:<resource_type>");
  static constexpr std::array<const char*, 3> names{"scope", "scope id",
                                                    "resource type"};
  for (std::size_t i = 0; i < names.size(); ++i)
    if (segs[i] == "*" || segs[i] == ">")
      return invalid(std::string{"wildcard not allowed in the "} + names[i]);
  auto rule = std::find_if(
      rules.rules.begin(), rules.rules.end(),
      [&](const permission_rule& r) { return r.scope == segs[0]; });
  if (rule == rules.rules.end())
    return invalid("unknown scope '" + std::string{segs[0]} + "'");
  auto& types = rule->resource_types.empty() ? rules.resource_types
                                             : rule->resource_types;
  if (!types.empty()
      && std::find(types.begin(), types.end(), segs[2]) == types.end())
    return invalid("unknown resource type '" + std::string{segs[2]} + "'");
  for (auto& cond : rule->all_of)
    if (!holds(cond, segs, who))
      // Names the failing claim, never its value or the expected one: the
      // message goes back to the client.
      return {permission_result::denied,
              "permission denied: claim '" + cond.claim + "' fails "
                  + op_name(cond.kind) + " for scope '" + rule->scope + "'"};
  return {permission_result::allowed, {}};
}

} // namespace herald::protocol
