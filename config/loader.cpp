#include "config/loader.hpp"

#include "config/schema.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace herald::config {

namespace {

using detail::key_spec;
using detail::kind;

constexpr unsigned parse_flags =
    rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag;

/// A value for one key given as text (environment or flag).
struct text_value {
  const key_spec* spec;
  std::string text;
  std::string origin; ///< `from HERALD_X` or `from --x`
};

/// What the command line asked for, before anything is applied.
struct command_line {
  bool help = false;
  bool version = false;
  std::string config_file;
  std::string check_file;
  std::vector<text_value> values;
};

/// The one error line; a value can never break it in two.
std::string error_line(const std::string& what,
                       const std::string& origin = {}) {
  std::string out = "config: " + what;
  if (!origin.empty())
    out += " (" + origin + ")";
  for (auto& c : out)
    if (c == '\n' || c == '\r')
      c = ' ';
  return out;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string parse_command_line(const std::vector<std::string>& args,
                               command_line& out) {
  for (auto& a : args) {
    if (a == "--help" || a == "-h")
      out.help = true;
    else if (a == "--version" || a == "-V")
      out.version = true;
  }
  if (out.help || out.version)
    return {};
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (!starts_with(arg, "--") || arg.size() == 2)
      return error_line(arg
                        + ": unexpected argument (flags are --name VALUE "
                          "or --name=VALUE; see --help)");
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    auto take_value = [&] {
      if (!has_value && i + 1 < args.size()
          && !starts_with(args[i + 1], "--")) {
        value = args[++i];
        has_value = true;
      }
      return has_value;
    };
    if (name == "config" || name == "check-config") {
      if (!take_value() || value.empty())
        return error_line("--" + name + ": needs a FILE");
      (name == "config" ? out.config_file : out.check_file) = value;
      continue;
    }
    auto spec = detail::find_key(name);
    if (spec == nullptr) {
      if (name.find('.') != std::string::npos)
        return error_line(name + ": unknown key (flag --" + name
                          + "; see --help)");
      return error_line("--" + name + ": unknown flag (see --help)");
    }
    if (!take_value())
      return error_line(name + ": needs a value (flag --" + name + ")");
    out.values.push_back({spec, value, "from --" + name});
  }
  if (!out.config_file.empty() && !out.check_file.empty())
    return error_line("--check-config: cannot be combined with --config");
  return {};
}

std::string scan_environment(const std::map<std::string, std::string>& env,
                             std::string& config_file,
                             std::vector<text_value>& out) {
  for (auto& [name, value] : env) {
    if (!starts_with(name, "HERALD_"))
      continue;
    if (name == "HERALD_CONFIG") {
      config_file = value;
      continue;
    }
    // herald-ctl's own (docs/console.md): an operator's shell exports them
    // next to the node's, so the node passes over them.
    if (name == "HERALD_ADMIN_URL" || name == "HERALD_ADMIN_TOKEN")
      continue;
    const key_spec* spec = nullptr;
    for (auto& k : detail::keys())
      if (detail::env_name(k.name) == name)
        spec = &k;
    if (spec == nullptr)
      return error_line(name
                        + ": unknown environment variable (no such key; "
                          "see --help)");
    out.push_back({spec, value, "from " + name});
  }
  return {};
}

/// Turns text from the environment or a flag into the JSON value the key
/// takes. Strings are taken as they are; other kinds are JSON text (a
/// number, an array, an object). Text that is no JSON stays a string, so
/// that the type error shows it.
std::string from_text(const key_spec& spec, const std::string& text,
                      rapidjson::Document& out) {
  if (spec.type == kind::string || spec.type == kind::choice) {
    out.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()),
                  out.GetAllocator());
    return {};
  }
  out.Parse<parse_flags>(text.data(), text.size());
  if (!out.HasParseError())
    return {};
  if (spec.type == kind::string_list || spec.type == kind::object) {
    // The text itself is left out: it may hold secrets.
    return std::string(spec.name) + ": needs JSON text ("
           + detail::type_name(spec) + "), at offset "
           + std::to_string(out.GetErrorOffset()) + ": "
           + rapidjson::GetParseError_En(out.GetParseError());
  }
  out.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()),
                out.GetAllocator());
  return {};
}

/// Reads a whole file; returns the problem, or empty.
std::string slurp(const std::string& path, std::string& out) {
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return std::strerror(errno);
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (failed)
    return err != 0 ? std::strerror(err) : "read error";
  return {};
}

/// Applies every key of one object of the file; `prefix` is its dotted path.
std::string walk(const rapidjson::Value& object, const std::string& prefix,
                 const std::string& origin, std::set<std::string>& seen,
                 std::set<std::string>& given, settings& cfg) {
  for (auto& m : object.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    std::string full = prefix.empty() ? name : prefix + "." + name;
    if (!seen.insert(full).second)
      return error_line(full + ": duplicate key", origin);
    if (auto spec = detail::find_key(full)) {
      if (auto err = detail::apply(*spec, m.value, cfg); !err.empty())
        return error_line(err, origin);
      given.insert(full);
    } else if (detail::is_key_prefix(full)) {
      if (!m.value.IsObject())
        return error_line(full + ": must be an object", origin);
      if (auto err = walk(m.value, full, origin, seen, given, cfg);
          !err.empty())
        return err;
    } else {
      return error_line(full + ": unknown key", origin);
    }
  }
  return {};
}

std::string apply_text(std::string_view text, const std::string& path,
                       std::set<std::string>& given, settings& cfg) {
  rapidjson::Document doc;
  doc.Parse<parse_flags>(text.data(), text.size());
  if (doc.HasParseError()) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < doc.GetErrorOffset() && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return error_line(path + ": " + std::to_string(line) + ":"
                      + std::to_string(col) + " "
                      + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject())
    return error_line(path + ": must hold one JSON object");
  std::set<std::string> seen;
  return walk(doc, "", "in " + path, seen, given, cfg);
}

std::string load_file(const std::string& path, std::set<std::string>& given,
                      settings& cfg) {
  std::string text;
  if (auto err = slurp(path, text); !err.empty())
    return error_line(path + ": cannot read: " + err);
  return apply_text(text, path, given, cfg);
}

std::string apply_texts(const std::vector<text_value>& values,
                        std::set<std::string>& given, settings& cfg) {
  for (auto& v : values) {
    rapidjson::Document doc;
    if (auto err = from_text(*v.spec, v.text, doc); !err.empty())
      return error_line(err, v.origin);
    if (auto err = detail::apply(*v.spec, doc, cfg); !err.empty())
      return error_line(err, v.origin);
    given.insert(std::string(v.spec->name));
  }
  return {};
}

std::string read_public_key(settings& cfg) {
  const auto& path = cfg.auth.rs256_public_key_file;
  cfg.auth.jwt.rs256_public_key_pem.clear();
  if (path.empty())
    return {};
  const std::string key = "auth.jwt.rs256_public_key_file: ";
  std::string pem;
  if (auto err = slurp(path, pem); !err.empty())
    return error_line(key + "cannot read " + path + ": " + err);
  // Checked now, so that --check-config catches a wrong file.
  protocol::jwt_settings only_rs256;
  only_rs256.rs256_public_key_pem = pem;
  if (std::holds_alternative<std::string>(
          protocol::jwt_verifier::create(only_rs256)))
    return error_line(key + path + " holds no RSA public key in PEM form");
  cfg.auth.jwt.rs256_public_key_pem = std::move(pem);
  return {};
}

/// Reads and compiles every bound schema, so that a bad one stops the node
/// (and --check-config) at start. Relative files are taken from the
/// configuration file's directory, or the working directory without one.
std::string load_schemas(const std::string& config_file, settings& cfg) {
  std::string base;
  if (!config_file.empty()) {
    auto slash = config_file.rfind('/');
    base = slash == std::string::npos ? "." : config_file.substr(0, slash + 1);
  }
  auto err = protocol::load_schema_bindings(cfg.schemas.bindings, base);
  if (err.empty())
    return {};
  return error_line("schemas.bindings" + err);
}

std::string check_whole(const settings& cfg) {
  if (cfg.ws.ping_interval_ms >= cfg.ws.pong_timeout_ms)
    return error_line("ws.ping_interval_ms: must be less than "
                      "ws.pong_timeout_ms ("
                      + std::to_string(cfg.ws.ping_interval_ms)
                      + " >= " + std::to_string(cfg.ws.pong_timeout_ms) + ")");
  auto& cl = cfg.cluster;
  if (cl.enabled && cl.failure_timeout_ms < 2 * uint64_t{cl.heartbeat_ms})
    return error_line("cluster.failure_timeout_ms: must be at least twice "
                      "cluster.heartbeat_ms ("
                      + std::to_string(cl.failure_timeout_ms) + " < 2 * "
                      + std::to_string(cl.heartbeat_ms) + ")");
  if (cl.enabled && cl.advertise_address.empty()
      && (cl.listen_address == "0.0.0.0" || cl.listen_address == "::"))
    return error_line("cluster.advertise_address: required when "
                      "cluster.listen_address is a wildcard ("
                      + cl.listen_address
                      + "): other members must know "
                        "which address to dial");
  if (auto err = protocol::check(cfg.supervision); !err.empty())
    return error_line("supervision." + err);
  // A channel endpoint is a service on the health board too: one name, one
  // breaker.
  auto& ch = cfg.channels;
  for (size_t i = 0; i < cfg.services.size(); ++i) {
    auto& name = cfg.services[i].name;
    if ((ch.circuit_breaker && name == "circuit-breaker")
        || (ch.monitor && name == "monitor") || (ch.drill && name == "drill"))
      return error_line("services[" + std::to_string(i) + "].name: '" + name
                        + "' is taken by the channel endpoint /api/v69/ws/"
                        + name);
  }
  if (cfg.store.kind == "postgres" && cfg.store.postgres_url.empty())
    return error_line("store.postgres.url: required when store.kind is "
                      "postgres");
  if (cfg.store.kind == "sqlite" && cfg.store.sqlite_path.empty())
    return error_line("store.sqlite.path: must name a file");
  if (cfg.auth.jwt.hs256_secret.empty()
      && cfg.auth.rs256_public_key_file.empty())
    return error_line("auth.jwt.hs256_secret: required (or "
                      "auth.jwt.rs256_public_key_file), to verify tokens");
  if (cfg.auth.api_keys.empty())
    return error_line("auth.api_keys: required (at least one publish API "
                      "key)");
  return {};
}

/// Word-wraps `text` at 78 columns, each line indented by `indent`.
std::string wrap(std::string_view text, size_t indent) {
  std::string out;
  std::string line(indent, ' ');
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find(' ', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto word = text.substr(pos, end - pos);
    if (line.size() > indent && line.size() + 1 + word.size() > 78) {
      out += line + "\n";
      line.assign(indent, ' ');
    }
    if (line.size() > indent)
      line += ' ';
    line += word;
    pos = end + 1;
  }
  if (line.size() > indent)
    out += line + "\n";
  return out;
}

} // namespace

std::variant<invocation, std::string>
load(const std::vector<std::string>& args,
     const std::map<std::string, std::string>& env) {
  invocation inv;
  command_line cmd;
  if (auto err = parse_command_line(args, cmd); !err.empty())
    return err;
  if (cmd.help || cmd.version) {
    inv.what = cmd.help ? invocation::mode::help : invocation::mode::version;
    return inv;
  }
  std::string env_file;
  std::vector<text_value> env_values;
  if (auto err = scan_environment(env, env_file, env_values); !err.empty())
    return err;
  if (!cmd.check_file.empty()) {
    inv.what = invocation::mode::check;
    inv.config_file = cmd.check_file;
  } else {
    inv.config_file = !cmd.config_file.empty() ? cmd.config_file : env_file;
  }
  auto& cfg = inv.cfg;
  std::set<std::string> given;
  if (!inv.config_file.empty())
    if (auto err = load_file(inv.config_file, given, cfg); !err.empty())
      return err;
  if (auto err = apply_texts(env_values, given, cfg); !err.empty())
    return err;
  if (auto err = apply_texts(cmd.values, given, cfg); !err.empty())
    return err;
  cfg.development = inv.config_file.empty();
  if (cfg.development) {
    if (given.count("auth.jwt.hs256_secret") == 0)
      cfg.auth.jwt.hs256_secret = dev_hs256_secret;
    if (given.count("auth.api_keys") == 0)
      cfg.auth.api_keys = {dev_api_key};
  }
  if (auto err = read_public_key(cfg); !err.empty())
    return err;
  if (auto err = load_schemas(inv.config_file, cfg); !err.empty())
    return err;
  if (auto err = check_whole(cfg); !err.empty())
    return err;
  return inv;
}

std::string apply_file_text(std::string_view text, const std::string& name,
                            settings& cfg) {
  std::set<std::string> given;
  return apply_text(text, name, given, cfg);
}

std::string usage() {
  std::string out =
      "Usage: heraldd [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n"
      "       heraldd --check-config FILE [--KEY VALUE | --KEY=VALUE]...\n"
      "       heraldd --help | --version\n"
      "\n";
  out += wrap(std::string("Runs a Herald node. Without --config (or "
                          "HERALD_CONFIG) it runs on a built-in development "
                          "configuration: HS256 secret \"")
                  + dev_hs256_secret + "\", publish API key \"" + dev_api_key
                  + "\". Never use it in production.",
              0);
  out += "\n"
         "  --config FILE        the configuration file: JSON with comments "
         "and\n"
         "                       trailing commas (also: HERALD_CONFIG)\n"
         "  --check-config FILE  validate FILE, the environment and the flags, "
         "then exit\n"
         "  --help, -h           print this text and exit\n"
         "  --version, -V        print the version and exit\n"
         "\n";
  out += wrap("Every key below is set in the file as nested objects "
              "({\"listen\":{\"port\":8080}}), by its environment variable, "
              "or by the flag --KEY. Precedence: flag > environment > file > "
              "default. Arrays and objects take JSON text in variables and "
              "flags. An unknown key or HERALD_* variable is an error. With "
              "a file, auth.api_keys and one of auth.jwt.hs256_secret or "
              "auth.jwt.rs256_public_key_file are required.",
              0);
  out += "\nKeys:\n";
  for (auto& k : detail::keys()) {
    out += "  " + std::string(k.name) + "\n";
    out += wrap(detail::type_name(k) + "; default " + detail::default_text(k)
                    + "; env " + detail::env_name(k.name),
                6);
    out += wrap(k.doc, 6);
  }
  return out;
}

} // namespace herald::config
