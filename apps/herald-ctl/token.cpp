#include "token.hpp"

#include "config/loader.hpp"
#include "protocol/jwt.hpp"

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace herald::ctl {

namespace {

constexpr const char* usage_text = R"(usage: herald-ctl token [options]

Mints an HS256 JWT for a Herald node and prints it.

  --sub ID            user id (required)
  --customer-id ID    claim customer_id
  --roles A,B         claim roles (comma-separated)
  --agent-ids A,B     claim agent_ids (comma-separated)
  --tenant-id ID      claim tenant_id
  --org-id ID         claim org_id
  --iss ISSUER        claim iss
  --aud AUDIENCE      claim aud
  --ttl SECONDS       lifetime (default 86400)
  --secret SECRET     signing secret (default: $HERALD_AUTH_JWT_HS256_SECRET,
                      else the development secret)
)";

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (c == ',') {
      if (!item.empty())
        out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty())
    out.push_back(item);
  return out;
}

int mint(const std::vector<std::string>& args) {
  std::string sub, customer_id, roles, agent_ids, tenant_id, org_id, iss, aud;
  long long ttl = 86400;
  const char* env_secret = std::getenv("HERALD_AUTH_JWT_HS256_SECRET");
  std::string secret =
      env_secret ? env_secret : herald::config::dev_hs256_secret;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& flag = args[i];
    if (i + 1 >= args.size()) {
      std::cerr << "herald-ctl token: " << flag << " needs a value\n";
      return 2;
    }
    auto& value = args[++i];
    if (flag == "--sub")
      sub = value;
    else if (flag == "--customer-id")
      customer_id = value;
    else if (flag == "--roles")
      roles = value;
    else if (flag == "--agent-ids")
      agent_ids = value;
    else if (flag == "--tenant-id")
      tenant_id = value;
    else if (flag == "--org-id")
      org_id = value;
    else if (flag == "--iss")
      iss = value;
    else if (flag == "--aud")
      aud = value;
    else if (flag == "--secret")
      secret = value;
    else if (flag == "--ttl")
      ttl = std::atoll(value.c_str());
    else {
      std::cerr << "herald-ctl token: unknown option " << flag << "\n"
                << usage_text;
      return 2;
    }
  }
  if (sub.empty()) {
    std::cerr << "herald-ctl token: --sub is required\n";
    return 2;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  auto str = [&](const char* key, const std::string& value) {
    if (value.empty())
      return;
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto list = [&](const char* key, const std::string& value) {
    if (value.empty())
      return;
    w.Key(key);
    w.StartArray();
    for (auto& item : split_list(value))
      w.String(item.c_str(), static_cast<rapidjson::SizeType>(item.size()));
    w.EndArray();
  };
  str("sub", sub);
  str("customer_id", customer_id);
  list("roles", roles);
  list("agent_ids", agent_ids);
  str("tenant_id", tenant_id);
  str("org_id", org_id);
  str("iss", iss);
  str("aud", aud);
  auto now = static_cast<int64_t>(std::time(nullptr));
  w.Key("iat");
  w.Int64(now);
  w.Key("exp");
  w.Int64(now + ttl);
  w.EndObject();
  std::cout << herald::protocol::sign_hs256(buf.GetString(), secret) << '\n';
  return 0;
}

} // namespace

int mint_command(const std::vector<std::string>& args) {
  return mint(args);
}

const char* token_usage() {
  return usage_text;
}

std::string default_secret() {
  const char* env_secret = std::getenv("HERALD_AUTH_JWT_HS256_SECRET");
  return env_secret ? env_secret : herald::config::dev_hs256_secret;
}

std::string admin_token(const std::string& secret) {
  auto now = static_cast<int64_t>(std::time(nullptr));
  std::string claims = R"({"sub":"herald-ctl","roles":["admin"],"iat":)"
                       + std::to_string(now)
                       + ",\"exp\":" + std::to_string(now + 3600) + "}";
  return herald::protocol::sign_hs256(claims, secret);
}

} // namespace herald::ctl
