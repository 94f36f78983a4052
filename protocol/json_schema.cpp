#include "protocol/json_schema.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

// How a schema becomes a validator, and why each step exists:
//
// 1. The file is parsed and *normalized* (class normalizer): every schema
//    position is walked; keywords RapidJSON 1.1.0 would silently ignore are
//    either translated into draft-04 terms or refused, so that a schema
//    never accepts more than its author wrote. Every `$ref` must point at
//    something; the files external ones name are loaded from the schema's
//    directory, normalized the same way and merged into the document
//    (class bundler), or, when absent, the reference accepts anything.
// 2. RapidJSON compiles the merged document into a SchemaDocument.
// 3. Validation drives a SchemaValidator per call. A SchemaDocument is
//    immutable, except that RapidJSON 1.1.0's regular expressions keep
//    their match state inside the compiled pattern; so each compiled_schema
//    keeps a small pool of compiled copies (one per thread validating at
//    the same moment, usually one) instead of sharing one.
// 4. RapidJSON reports only the failing keyword, value and schema. For
//    `oneOf`/`anyOf`/`allOf` that is the parent value, so on failure the
//    value is validated again against each branch (each compiled on first
//    use) to find the deepest failure, which is what a publisher wants to
//    read (`/data/title`, not `/data`).

namespace herald::protocol {

namespace {

namespace fs = std::filesystem;

using value_t = rapidjson::Value;
using document_t = rapidjson::Document;
using alloc_t = document_t::AllocatorType;
using pointer_t = rapidjson::Pointer;
using schema_doc_t = rapidjson::SchemaDocument;
// Validation state lives in a pool on the caller's stack: no malloc for
// the common event; Free is a no-op, the pool goes at the end of the call.
using state_alloc_t = rapidjson::MemoryPoolAllocator<>;
using validator_t = rapidjson::GenericSchemaValidator<
    schema_doc_t, rapidjson::BaseReaderHandler<>, state_alloc_t>;
using regex_t = rapidjson::internal::GenericRegex<rapidjson::UTF8<>>;

constexpr std::size_t validation_buffer_bytes = 8192;
constexpr int max_explain_depth = 8;
constexpr std::size_t max_pool = 16;

std::string_view view(const value_t& v) {
  return {v.GetString(), v.GetStringLength()};
}

std::string render(const value_t& v, std::size_t max_len = 120) {
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

/// One reference token, escaped for a JSON pointer.
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

/// The last token of a JSON pointer string, unescaped.
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

/// The last path segment of a URI (what a local copy is named after):
/// `https://h/schemas/x.json` -> `x.json`; empty for `.`/`..`/nothing.
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

// -- normalization
// -------------------------------------------------------------

const std::set<std::string_view>& unsupported_keywords() {
  static const std::set<std::string_view> s{"if",
                                            "then",
                                            "else",
                                            "contains",
                                            "minContains",
                                            "maxContains",
                                            "propertyNames",
                                            "prefixItems",
                                            "unevaluatedProperties",
                                            "unevaluatedItems",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "$dynamicRef",
                                            "$recursiveRef"};
  return s;
}

// Members that may sit next to `$ref` without changing what it validates.
const std::set<std::string_view>& annotation_keywords() {
  static const std::set<std::string_view> s{"$schema",
                                            "$id",
                                            "id",
                                            "$anchor",
                                            "$dynamicAnchor",
                                            "$recursiveAnchor",
                                            "$comment",
                                            "$vocabulary",
                                            "title",
                                            "description",
                                            "default",
                                            "examples",
                                            "deprecated",
                                            "readOnly",
                                            "writeOnly",
                                            "definitions",
                                            "$defs",
                                            "format",
                                            "contentMediaType",
                                            "contentEncoding",
                                            "contentSchema"};
  return s;
}

const std::set<std::string_view>& type_names() {
  static const std::set<std::string_view> s{
      "null", "boolean", "object", "array", "number", "string", "integer"};
  return s;
}

/// One `$ref` found while normalizing; resolved once every file is in.
struct ref_record {
  std::size_t doc = 0;  ///< the document holding it
  std::string location; ///< JSON pointer of the object holding `$ref`
  std::string uri;      ///< the part before `#`; empty: the same document
  std::string fragment; ///< from `#` on, URI-fragment form
  std::size_t target = 0;
  bool any = false; ///< external without a local copy: accepts anything
};

/// Walks every schema position of one document, in place: checks keyword
/// values, translates later drafts, records `$ref`s.
class normalizer {
public:
  normalizer(document_t& doc, std::size_t index, std::string name,
             std::vector<ref_record>& refs)
      : doc_(doc), a_(doc.GetAllocator()), index_(index),
        name_(std::move(name)), refs_(refs) {}

  /// Normalizes the schema at `at` (the whole document for ""). Empty on
  /// success, else `<name>: <pointer>: <problem>`.
  std::string run(const std::string& at = {}) {
    pointer_t p(at.data(), at.size());
    value_t* v = p.IsValid() ? p.Get(doc_) : nullptr;
    if (v == nullptr)
      return fail(at, "no such location");
    if (!schema(*v, at))
      return error_;
    return {};
  }

  /// True when the value was normalized already.
  bool visited(const value_t* v) const { return visited_.count(v) != 0; }

  const std::string& name() const { return name_; }

private:
  std::string fail(const std::string& at, const std::string& problem) {
    fail_at(at, problem);
    return error_;
  }

  bool fail_at(const std::string& at, const std::string& problem) {
    error_ = name_ + ": " + (at.empty() ? "(root)" : at) + ": " + problem;
    return false;
  }

  /// Appends `item` to the object's `allOf`, creating it when absent.
  void add_all_of(value_t& obj, value_t item) {
    auto it = obj.FindMember("allOf");
    if (it == obj.MemberEnd()) {
      value_t arr(rapidjson::kArrayType);
      arr.PushBack(item, a_);
      obj.AddMember("allOf", arr, a_);
    } else {
      it->value.PushBack(item, a_);
    }
  }

  bool check_regex(const std::string& at, const value_t& v) {
    regex_t re(v.GetString());
    if (re.IsValid())
      return true;
    return fail_at(at, "pattern " + render(v)
                           + " is not supported by RapidJSON's regular "
                             "expressions (no \\d, \\w, \\s, lookaround or "
                             "backreferences; write [0-9] and the like)");
  }

  bool count_keyword(value_t& obj, const char* key, const std::string& at) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd())
      return true;
    auto& v = it->value;
    // 2020-12 allows 10.0 for 10; RapidJSON ignores anything but integers.
    if (v.IsDouble() && v.GetDouble() >= 0 && v.GetDouble() <= 4294967295.0
        && std::floor(v.GetDouble()) == v.GetDouble())
      v.SetUint(static_cast<unsigned>(v.GetDouble()));
    if (!v.IsUint())
      return fail_at(at + "/" + key, "must be a non-negative integer");
    return true;
  }

  bool subschemas_in_object(value_t& obj, const char* key,
                            const std::string& at, bool regex_keys) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd())
      return true;
    if (!it->value.IsObject())
      return fail_at(at + "/" + key, "must be an object");
    for (auto& m : it->value.GetObject()) {
      auto where = at + "/" + key + "/" + escape_token(view(m.name));
      if (regex_keys && !check_regex(where, m.name))
        return false;
      if (!schema(m.value, where))
        return false;
    }
    return true;
  }

  bool subschema_array(value_t& obj, const char* key, const std::string& at) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd())
      return true;
    if (!it->value.IsArray() || it->value.Empty())
      return fail_at(at + "/" + key, "must be a non-empty array of schemas");
    for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i)
      if (!schema(it->value[i], at + "/" + key + "/" + std::to_string(i)))
        return false;
    return true;
  }

  bool single_subschema(value_t& obj, const char* key, const std::string& at,
                        bool bool_ok) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || (bool_ok && it->value.IsBool()))
      return true;
    return schema(it->value, at + "/" + key);
  }

  bool handle_ref(value_t& obj, const std::string& at) {
    auto it = obj.FindMember("$ref");
    if (it == obj.MemberEnd())
      return true;
    if (!it->value.IsString())
      return fail_at(at + "/$ref", "must be a string");
    std::string ref{view(it->value)};
    auto hash = ref.find('#');
    std::string base = ref.substr(0, hash);
    std::string fragment = hash == std::string::npos ? "#" : ref.substr(hash);
    if (fragment.size() > 1 && fragment[1] != '/')
      return fail_at(at + "/$ref", json_quoted(ref)
                                       + ": only JSON-pointer fragments "
                                         "(#/...) are supported, not anchors");
    pointer_t p(fragment.data(), fragment.size());
    if (!p.IsValid())
      return fail_at(at + "/$ref",
                     json_quoted(ref) + " is not a valid JSON pointer");
    ref_record r;
    r.doc = index_;
    r.location = at;
    r.uri = base;
    r.fragment = fragment;
    // In later drafts keywords next to `$ref` apply as well; RapidJSON
    // (draft-04) ignores them. `{"$ref":X, k...}` == `{"allOf":[{"$ref":X}],
    // k...}` in both.
    bool siblings = false;
    for (auto& m : obj.GetObject()) {
      auto name = view(m.name);
      siblings = siblings
                 || (name != "$ref" && annotation_keywords().count(name) == 0);
    }
    if (siblings) {
      value_t ref_value(it->value, a_);
      obj.RemoveMember("$ref");
      value_t wrapper(rapidjson::kObjectType);
      wrapper.AddMember("$ref", ref_value, a_);
      add_all_of(obj, std::move(wrapper));
      r.location = at + "/allOf/" + std::to_string(obj["allOf"].Size() - 1);
    }
    refs_.push_back(std::move(r));
    return true;
  }

  /// `exclusiveMinimum: N` (draft-06+) -> `minimum: N, exclusiveMinimum:
  /// true` (draft-04), next to an existing `minimum` through `allOf`.
  bool exclusive_bound(value_t& obj, const char* exclusive, const char* bound,
                       const std::string& at) {
    auto it = obj.FindMember(exclusive);
    if (it == obj.MemberEnd() || it->value.IsBool())
      return true;
    if (!it->value.IsNumber())
      return fail_at(at + "/" + exclusive, "must be a number or a boolean");
    value_t n(it->value, a_);
    obj.RemoveMember(exclusive);
    if (obj.FindMember(bound) == obj.MemberEnd()) {
      obj.AddMember(rapidjson::StringRef(bound), n, a_);
      obj.AddMember(rapidjson::StringRef(exclusive), true, a_);
    } else {
      value_t extra(rapidjson::kObjectType);
      extra.AddMember(rapidjson::StringRef(bound), n, a_);
      extra.AddMember(rapidjson::StringRef(exclusive), true, a_);
      add_all_of(obj, std::move(extra));
    }
    return true;
  }

  bool schema(value_t& v, const std::string& at) {
    if (v.IsBool()) {
      // Boolean schemas (draft-06+): RapidJSON would take both as "any".
      bool accept = v.GetBool();
      v.SetObject();
      if (!accept)
        v.AddMember("not", value_t(rapidjson::kObjectType), a_);
      visited_.insert(&v);
      return true;
    }
    if (!v.IsObject())
      return fail_at(at, "a schema must be an object or a boolean");
    if (!visited_.insert(&v).second)
      return true;
    for (auto& m : v.GetObject())
      if (unsupported_keywords().count(view(m.name)) != 0)
        return fail_at(at + "/" + escape_token(view(m.name)),
                       "keyword not supported by this validator (see "
                       "docs/schemas.md)");
    if (auto it = v.FindMember("type"); it != v.MemberEnd()) {
      auto ok = [](const value_t& t) {
        return t.IsString() && type_names().count(view(t)) != 0;
      };
      bool good = ok(it->value);
      if (it->value.IsArray()) {
        good = !it->value.Empty();
        for (auto& t : it->value.GetArray())
          good = good && ok(t);
      }
      if (!good)
        return fail_at(at + "/type",
                       "must be a type name (null, boolean, object, array, "
                       "number, string, integer) or an array of them");
    }
    if (auto it = v.FindMember("enum"); it != v.MemberEnd()) {
      if (!it->value.IsArray() || it->value.Empty())
        return fail_at(at + "/enum", "must be a non-empty array");
    }
    if (auto it = v.FindMember("required"); it != v.MemberEnd()) {
      bool good = it->value.IsArray();
      if (good)
        for (auto& s : it->value.GetArray())
          good = good && s.IsString();
      if (!good)
        return fail_at(at + "/required", "must be an array of strings");
    }
    for (auto key : {"minLength", "maxLength", "minItems", "maxItems",
                     "minProperties", "maxProperties"})
      if (!count_keyword(v, key, at))
        return false;
    for (auto key : {"minimum", "maximum", "multipleOf"})
      if (auto it = v.FindMember(key);
          it != v.MemberEnd() && !it->value.IsNumber())
        return fail_at(at + "/" + key, "must be a number");
    if (auto it = v.FindMember("multipleOf");
        it != v.MemberEnd() && !(it->value.GetDouble() > 0))
      return fail_at(at + "/multipleOf", "must be greater than 0");
    if (auto it = v.FindMember("uniqueItems");
        it != v.MemberEnd() && !it->value.IsBool())
      return fail_at(at + "/uniqueItems", "must be a boolean");
    if (auto it = v.FindMember("pattern"); it != v.MemberEnd()) {
      if (!it->value.IsString())
        return fail_at(at + "/pattern", "must be a string");
      if (!check_regex(at + "/pattern", it->value))
        return false;
    }
    if (!exclusive_bound(v, "exclusiveMinimum", "minimum", at)
        || !exclusive_bound(v, "exclusiveMaximum", "maximum", at))
      return false;
    if (auto it = v.FindMember("const"); it != v.MemberEnd()) {
      // `const: X` is `enum: [X]`; next to an enum, both must hold.
      value_t list(rapidjson::kArrayType);
      list.PushBack(value_t(it->value, a_), a_);
      if (v.FindMember("enum") == v.MemberEnd()) {
        v.AddMember("enum", list, a_);
      } else {
        value_t extra(rapidjson::kObjectType);
        extra.AddMember("enum", list, a_);
        add_all_of(v, std::move(extra));
      }
    }
    if (!handle_ref(v, at))
      return false;
    if (!subschemas_in_object(v, "properties", at, false)
        || !subschemas_in_object(v, "patternProperties", at, true)
        || !subschemas_in_object(v, "definitions", at, false)
        || !subschemas_in_object(v, "$defs", at, false))
      return false;
    if (auto it = v.FindMember("dependencies"); it != v.MemberEnd()) {
      if (!it->value.IsObject())
        return fail_at(at + "/dependencies", "must be an object");
      for (auto& m : it->value.GetObject()) {
        auto where = at + "/dependencies/" + escape_token(view(m.name));
        if (m.value.IsArray()) {
          for (auto& s : m.value.GetArray())
            if (!s.IsString())
              return fail_at(where, "must be an array of strings or a schema");
        } else if (!schema(m.value, where)) {
          return false;
        }
      }
    }
    if (!single_subschema(v, "additionalProperties", at, true)
        || !single_subschema(v, "additionalItems", at, true)
        || !single_subschema(v, "not", at, false))
      return false;
    if (auto it = v.FindMember("items"); it != v.MemberEnd()) {
      if (it->value.IsArray()) {
        if (!subschema_array(v, "items", at))
          return false;
      } else if (!schema(it->value, at + "/items")) {
        return false;
      }
    }
    for (auto key : {"allOf", "anyOf", "oneOf"})
      if (!subschema_array(v, key, at))
        return false;
    return true;
  }

  document_t& doc_;
  alloc_t& a_;
  std::size_t index_;
  std::string name_;
  std::vector<ref_record>& refs_;
  std::string error_;
  std::set<const value_t*> visited_;
};

/// The schema file and the files its external `$ref`s name, merged into
/// one document in which every `$ref` is local. RapidJSON's own route for
/// external references, a remote-document provider, is not used: a
/// validator reports failures only by pointers into the main document, so
/// a failure inside another file could not be located or explained, and
/// 1.1.0 hands the provider each URI one character short.
class bundler {
public:
  explicit bundler(std::string dir) : dir_(std::move(dir)) {}
  bundler(const bundler&) = delete;
  bundler& operator=(const bundler&) = delete;

  /// Normalizes the main document. Empty on success.
  std::string add_root(std::unique_ptr<document_t> doc,
                       const std::string& name) {
    return add(std::move(doc), name, last_segment(name));
  }

  /// Resolves every `$ref`, loading the files they name, until none is
  /// left. Empty on success.
  std::string resolve() {
    for (std::size_t i = 0; i < refs_.size(); ++i) {
      auto r = refs_[i]; // a copy: loading appends to refs_
      auto where = docs_[r.doc].name + ": " + r.location + "/$ref: ";
      auto t = r.doc;
      if (!r.uri.empty()) {
        auto found = find(r.uri);
        if (!found) {
          auto seg = last_segment(r.uri);
          fs::path file =
              dir_.empty() || seg.empty() ? fs::path{} : fs::path{dir_} / seg;
          std::error_code ec;
          if (file.empty() || !fs::is_regular_file(file, ec)) {
            refs_[i].any = true;
            if (std::find(accepted_any.begin(), accepted_any.end(), r.uri)
                == accepted_any.end())
              accepted_any.push_back(r.uri);
            continue;
          }
          std::string text, err;
          if (!read_file(file.string(), text, err))
            return where + err;
          auto doc = std::make_unique<document_t>();
          doc->Parse(text.data(), text.size());
          if (doc->HasParseError())
            return where + parse_error(file.string(), text, *doc);
          if (auto problem = add(std::move(doc), file.string(), seg);
              !problem.empty())
            return where + problem;
          found = docs_.size() - 1;
        }
        t = *found;
      }
      refs_[i].target = t;
      auto& target = docs_[t];
      pointer_t p(r.fragment.data(), r.fragment.size());
      value_t* v = p.IsValid() ? p.Get(*target.doc) : nullptr;
      if (v == nullptr)
        return where + json_quoted(r.uri + r.fragment) + " points at nothing"
               + (t == r.doc ? std::string{} : " in " + target.name);
      if (!target.norm->visited(v))
        if (auto problem = target.norm->run(stringify(p)); !problem.empty())
          return problem;
    }
    return {};
  }

  /// Points every `$ref` into the merged document (external files go under
  /// `x-herald-bundled/<file name>`, a member RapidJSON ignores), drops
  /// those that accept anything, and returns the merged document.
  document_t& merge() {
    for (auto& r : refs_) {
      auto& d = *docs_[r.doc].doc;
      pointer_t at(r.location.data(), r.location.size());
      value_t* obj = at.IsValid() ? at.Get(d) : nullptr;
      if (obj == nullptr || !obj->IsObject())
        continue;
      auto it = obj->FindMember("$ref");
      if (it == obj->MemberEnd())
        continue;
      if (r.any) {
        obj->RemoveMember("$ref");
        continue;
      }
      auto ref = base(r.target) + r.fragment.substr(1);
      it->value.SetString(ref.data(),
                          static_cast<rapidjson::SizeType>(ref.size()),
                          d.GetAllocator());
    }
    auto& root = *docs_[0].doc;
    if (docs_.size() > 1) {
      auto& a = root.GetAllocator();
      value_t bundled(rapidjson::kObjectType);
      for (std::size_t t = 1; t < docs_.size(); ++t) {
        value_t name(docs_[t].file.data(),
                     static_cast<rapidjson::SizeType>(docs_[t].file.size()), a);
        bundled.AddMember(name, value_t(*docs_[t].doc, a), a);
      }
      root.AddMember("x-herald-bundled", bundled, a);
    }
    return root;
  }

  std::vector<std::string> accepted_any; ///< URIs without a local file

private:
  struct entry {
    std::string name; ///< path, for messages
    std::string file; ///< last path segment: what refs name it by
    std::string id;   ///< its `$id` (or `id`) without fragment
    std::unique_ptr<document_t> doc;
    std::unique_ptr<normalizer> norm;
  };

  std::string add(std::unique_ptr<document_t> doc, const std::string& name,
                  const std::string& file) {
    if (!doc->IsObject() && !doc->IsBool())
      return name + ": a schema must be an object or a boolean";
    entry e;
    e.name = name;
    e.file = file;
    if (doc->IsObject())
      for (auto key : {"$id", "id"})
        if (auto it = doc->FindMember(key);
            it != doc->MemberEnd() && it->value.IsString()) {
          std::string id{view(it->value)};
          e.id = id.substr(0, id.find('#'));
          break;
        }
    e.norm = std::make_unique<normalizer>(*doc, docs_.size(), name, refs_);
    e.doc = std::move(doc);
    docs_.push_back(std::move(e));
    return docs_.back().norm->run();
  }

  /// The loaded document a URI names: by its `$id`, or by file name.
  std::optional<std::size_t> find(const std::string& uri) const {
    auto seg = last_segment(uri);
    for (std::size_t i = 0; i < docs_.size(); ++i) {
      auto& d = docs_[i];
      if (!d.id.empty()
          && (uri == d.id || (!seg.empty() && seg == last_segment(d.id))))
        return i;
      if (!seg.empty() && seg == d.file)
        return i;
    }
    return std::nullopt;
  }

  /// `#` plus where document `t` sits in the merged document.
  std::string base(std::size_t t) const {
    if (t == 0)
      return "#";
    auto text = "/x-herald-bundled/" + escape_token(docs_[t].file);
    return uri_fragment(pointer_t(text.data(), text.size()));
  }

  std::string dir_;
  std::vector<entry> docs_;
  std::vector<ref_record> refs_;
};

} // namespace

// -- compiled_schema
// ------------------------------------------------------------

struct compiled_schema::impl {
  std::string path;
  document_t root; ///< normalized, external files merged in
  std::vector<std::string> accepted_any;

  struct instance;
  std::mutex mu;
  std::vector<std::unique_ptr<instance>> pool;

  std::unique_ptr<instance> acquire();
  void release(std::unique_ptr<instance> in);
};

namespace {

struct branch {
  document_t source;
  std::unique_ptr<schema_doc_t> doc;
};

} // namespace

/// One compiled copy of the schema, used by one thread at a time.
struct compiled_schema::impl::instance {
  explicit instance(const impl& o)
      : owner(o), doc(std::make_unique<schema_doc_t>(owner.root)) {}

  /// The schema at `at` (in the root document) compiled on its own, on
  /// first use: the root document with its root replaced by a `$ref` to
  /// `at`, so that every other `$ref` still resolves.
  const schema_doc_t& branch_at(const pointer_t& at) {
    auto key = uri_fragment(at);
    auto& slot = branches[key];
    if (!slot) {
      slot = std::make_unique<branch>();
      auto& a = slot->source.GetAllocator();
      slot->source.CopyFrom(owner.root, a);
      slot->source.RemoveMember("$ref");
      slot->source.AddMember(
          "$ref",
          value_t(key.data(), static_cast<rapidjson::SizeType>(key.size()), a),
          a);
      slot->doc = std::make_unique<schema_doc_t>(slot->source);
    }
    return *slot->doc;
  }

  const impl& owner;
  std::unique_ptr<schema_doc_t> doc;
  std::map<std::string, std::unique_ptr<branch>> branches;
};

std::unique_ptr<compiled_schema::impl::instance>
compiled_schema::impl::acquire() {
  {
    std::lock_guard<std::mutex> guard{mu};
    if (!pool.empty()) {
      auto in = std::move(pool.back());
      pool.pop_back();
      return in;
    }
  }
  // Only when more threads validate at once than ever before.
  return std::make_unique<instance>(*this);
}

void compiled_schema::impl::release(std::unique_ptr<instance> in) {
  std::lock_guard<std::mutex> guard{mu};
  if (pool.size() < max_pool)
    pool.push_back(std::move(in));
}

namespace {

using instance_t = compiled_schema::impl::instance;

struct failure {
  pointer_t document; ///< the failing value
  pointer_t schema;   ///< the failing schema, in the root document
  std::string keyword;
};

/// Runs `sd` over `inst`; the failure, or nullopt when valid.
std::optional<failure> run(const schema_doc_t& sd, const value_t& inst) {
  char buffer[validation_buffer_bytes];
  state_alloc_t alloc(buffer, sizeof(buffer));
  validator_t v(sd, &alloc);
  inst.Accept(v);
  if (v.IsValid())
    return std::nullopt;
  failure f;
  f.document = v.GetInvalidDocumentPointer();
  f.schema = v.GetInvalidSchemaPointer();
  if (auto k = v.GetInvalidSchemaKeyword())
    f.keyword = k;
  return f;
}

std::string json_type(const value_t& v) {
  switch (v.GetType()) {
  case rapidjson::kNullType:
    return "null";
  case rapidjson::kFalseType:
  case rapidjson::kTrueType:
    return "boolean";
  case rapidjson::kObjectType:
    return "object";
  case rapidjson::kArrayType:
    return "array";
  case rapidjson::kStringType:
    return "string";
  case rapidjson::kNumberType:
    return v.IsInt64() || v.IsUint64() ? "integer" : "number";
  }
  return "value";
}

class explainer {
public:
  explainer(instance_t& in, const value_t& root) : in_(in), root_(root) {}

  /// Why `inst` fails at `f` (paths relative to `inst`).
  schema_violation explain(const value_t& inst, const failure& f, int depth) {
    schema_violation out;
    out.path = stringify(f.document);
    out.keyword = f.keyword;
    const value_t* at = f.document.Get(inst);
    pointer_t sp = f.schema;
    const value_t* sch = resolve(sp);
    auto kw = [&](const char* name) -> const value_t* {
      if (sch == nullptr || !sch->IsObject())
        return nullptr;
      auto it = sch->FindMember(name);
      return it == sch->MemberEnd() ? nullptr : &it->value;
    };
    auto& k = f.keyword;
    std::string why;
    if (k == "oneOf" || k == "anyOf" || k == "allOf") {
      if (auto arr = kw(k.c_str());
          arr && arr->IsArray() && at && depth < max_explain_depth)
        return branches(out, *at, sp, *arr, depth);
      why = k == "allOf" ? "does not match every schema of allOf"
                         : "does not match the schemas of " + k;
    } else if (k == "type") {
      auto t = kw("type");
      why = "must be of type "
            + (t ? (t->IsString() ? std::string{view(*t)} : render(*t))
                 : std::string{"?"})
            + (at ? ", got " + json_type(*at) : std::string{});
    } else if (k == "enum") {
      auto c = kw("const");
      auto e = kw("enum");
      if (c && e && e->IsArray() && e->Size() == 1 && *c == (*e)[0])
        why = "must be equal to " + render(*c);
      else
        why = "must be one of " + (e ? render(*e, 200) : std::string{"enum"});
    } else if (k == "required") {
      why = "a required property is missing";
      if (auto r = kw("required"); r && r->IsArray() && at && at->IsObject())
        for (auto& name : r->GetArray())
          if (name.IsString() && !at->HasMember(name)) {
            why = "required property " + render(name) + " is missing";
            break;
          }
    } else if (k == "additionalProperties") {
      why = "property " + json_quoted(last_token(out.path))
            + " is not allowed (additionalProperties is false)";
    } else if (k == "maxLength" || k == "minLength") {
      auto n = kw(k.c_str());
      why = std::string{"must be at "} + (k == "maxLength" ? "most " : "least ")
            + (n ? render(*n) : "?") + " characters long";
      if (at && at->IsString())
        why += " (got " + std::to_string(code_points(view(*at))) + ")";
    } else if (k == "maximum" || k == "minimum") {
      auto n = kw(k.c_str());
      auto x = kw(k == "maximum" ? "exclusiveMaximum" : "exclusiveMinimum");
      bool exclusive = x && x->IsBool() && x->GetBool();
      why = std::string{"must be "} + (k == "maximum" ? "<" : ">")
            + (exclusive ? " " : "= ") + (n ? render(*n) : "?");
      if (at)
        why += " (got " + render(*at) + ")";
    } else if (k == "multipleOf") {
      auto n = kw("multipleOf");
      why = "must be a multiple of " + (n ? render(*n) : std::string{"?"});
    } else if (k == "pattern") {
      auto p = kw("pattern");
      why = "must match the pattern " + (p ? render(*p) : std::string{"?"});
    } else if (k == "maxItems" || k == "minItems" || k == "maxProperties"
               || k == "minProperties") {
      auto n = kw(k.c_str());
      bool items = k == "maxItems" || k == "minItems";
      why = std::string{"must have at "}
            + (k.compare(0, 3, "max") == 0 ? "most " : "least ")
            + (n ? render(*n) : "?") + (items ? " items" : " properties");
      if (at && (at->IsArray() || at->IsObject()))
        why += " (got "
               + std::to_string(at->IsArray() ? at->Size() : at->MemberCount())
               + ")";
    } else if (k == "uniqueItems") {
      why = "duplicates an earlier item (uniqueItems)";
    } else if (k == "items") {
      why = "is one item too many (additionalItems is false)";
    } else if (k == "not") {
      why = "must not match the schema under `not`";
    } else if (k == "dependencies") {
      why = "does not satisfy `dependencies`";
    } else if (k == "patternProperties") {
      why = "a property fails the schema of a matching patternProperties "
            "pattern";
    } else {
      why = "fails the schema keyword `" + k + "`";
    }
    out.message = why;
    return out;
  }

private:
  /// The schema value at `p` in the root document, following local
  /// `$ref`s; `p` becomes the final location. Null when it is elsewhere.
  const value_t* resolve(pointer_t& p) {
    const value_t* v = p.Get(root_);
    for (int hops = 0; v && v->IsObject() && hops < 32; ++hops) {
      auto ref = v->FindMember("$ref");
      if (ref == v->MemberEnd() || !ref->value.IsString()
          || ref->value.GetStringLength() == 0
          || ref->value.GetString()[0] != '#')
        break;
      pointer_t next(ref->value.GetString(), ref->value.GetStringLength());
      if (!next.IsValid())
        return nullptr;
      p = next;
      v = p.Get(root_);
    }
    return v;
  }

  std::string label(const value_t& arr, rapidjson::SizeType i) {
    auto& b = arr[i];
    if (b.IsObject())
      if (auto ref = b.FindMember("$ref");
          ref != b.MemberEnd() && ref->value.IsString())
        return last_token(std::string{view(ref->value)});
    return "#" + std::to_string(i);
  }

  schema_violation branches(schema_violation out, const value_t& at,
                            const pointer_t& sp, const value_t& arr,
                            int depth) {
    auto& k = out.keyword;
    struct result {
      std::optional<schema_violation> v;
      std::string label;
    };
    std::vector<result> results;
    std::vector<std::string> valid;
    for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
      auto bp = sp.Append(k.data(), static_cast<rapidjson::SizeType>(k.size()))
                    .Append(i);
      auto& sd = in_.branch_at(bp);
      result r;
      r.label = label(arr, i);
      if (auto f = run(sd, at))
        r.v = explain(at, *f, depth + 1);
      else
        valid.push_back(r.label);
      results.push_back(std::move(r));
    }
    if (k == "oneOf" && valid.size() > 1) {
      out.message = "matches more than one schema of oneOf (";
      for (std::size_t i = 0; i < valid.size(); ++i)
        out.message += (i ? ", " : "") + valid[i];
      out.message += ")";
      return out;
    }
    auto tokens = [](const std::string& p) {
      return std::count(p.begin(), p.end(), '/');
    };
    const schema_violation* best = nullptr;
    long best_score = 0;
    for (auto& r : results) {
      if (!r.v)
        continue;
      if (k == "allOf")
        return prefixed(out.path, *r.v);
      // Deepest first; at equal depth a wrong type says the least.
      long score = tokens(r.v->path) * 2 + (r.v->keyword != "type");
      if (!r.v->path.empty() && (best == nullptr || score > best_score)) {
        best = &*r.v;
        best_score = score;
      }
    }
    if (best != nullptr)
      return prefixed(out.path, *best);
    out.message = "matches none of the " + std::to_string(arr.Size())
                  + " schemas of " + k;
    std::string details;
    for (auto& r : results)
      if (r.v)
        details +=
            (details.empty() ? "" : "; ") + r.label + ": " + r.v->message;
    if (!details.empty())
      out.message += " (" + details + ")";
    if (out.message.size() > 600)
      out.message = out.message.substr(0, 597) + "...";
    return out;
  }

  static schema_violation prefixed(const std::string& prefix,
                                   schema_violation v) {
    v.path = prefix + v.path;
    return v;
  }

  instance_t& in_;
  const value_t& root_;
};

/// `<path>: <why>` with the path put after `prefix`.
schema_violation finish(schema_violation v, std::string_view prefix) {
  v.path = std::string{prefix} + v.path;
  v.message =
      (v.path.empty() ? std::string{"(root)"} : v.path) + ": " + v.message;
  return v;
}

} // namespace

compiled_schema::compiled_schema(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}

compiled_schema::~compiled_schema() = default;

const std::string& compiled_schema::path() const {
  return impl_->path;
}

const std::vector<std::string>& compiled_schema::accepted_any_refs() const {
  return impl_->accepted_any;
}

std::optional<schema_violation>
compiled_schema::validate(const rapidjson::Value& instance,
                          std::string_view prefix) const {
  auto in = impl_->acquire();
  std::optional<schema_violation> result;
  if (auto f = run(*in->doc, instance)) {
    explainer ex{*in, impl_->root};
    result = finish(ex.explain(instance, *f, 0), prefix);
  }
  impl_->release(std::move(in));
  return result;
}

std::optional<schema_violation>
compiled_schema::validate_json(std::string_view json,
                               std::string_view prefix) const {
  {
    auto in = impl_->acquire();
    char buffer[validation_buffer_bytes];
    state_alloc_t alloc(buffer, sizeof(buffer));
    bool valid = false;
    bool parsed = false;
    {
      validator_t v(*in->doc, &alloc);
      rapidjson::MemoryStream ms(json.data(), json.size());
      rapidjson::Reader reader;
      parsed =
          !reader.Parse<rapidjson::kParseFullPrecisionFlag>(ms, v).IsError();
      valid = v.IsValid();
    }
    impl_->release(std::move(in));
    if (valid && parsed)
      return std::nullopt;
  }
  // The failure path: build the DOM to explain what failed.
  document_t doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(json.data(), json.size());
  if (doc.HasParseError())
    return finish({"", "json", "is not valid JSON"}, prefix);
  return validate(doc, prefix);
}

std::variant<schema_ptr, std::string> compile_schema(std::string_view json,
                                                     const std::string& dir,
                                                     const std::string& name) {
  auto doc = std::make_unique<document_t>();
  doc->Parse(json.data(), json.size());
  if (doc->HasParseError())
    return parse_error(name, json, *doc);
  bundler b{dir};
  if (auto problem = b.add_root(std::move(doc), name); !problem.empty())
    return problem;
  if (auto problem = b.resolve(); !problem.empty())
    return problem;
  auto p = std::make_unique<compiled_schema::impl>();
  p->path = name;
  p->root.Swap(b.merge());
  p->accepted_any = std::move(b.accepted_any);
  // Compile one copy now: the one most calls will use.
  auto first = std::make_unique<compiled_schema::impl::instance>(*p);
  p->pool.push_back(std::move(first));
  return std::make_shared<const compiled_schema>(std::move(p));
}

std::variant<schema_ptr, std::string> load_schema(const std::string& path) {
  std::string text, err;
  if (!read_file(path, text, err))
    return err;
  auto dir = fs::path{path}.parent_path().string();
  return compile_schema(text, dir.empty() ? "." : dir, path);
}

} // namespace herald::protocol
