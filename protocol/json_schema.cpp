#include "protocol/json_schema.hpp"

#include "protocol/json_schema_internal.hpp"
#include "protocol/json_util.hpp"

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

using namespace schema_internal;
namespace fs = std::filesystem;

// Validation state lives in a pool on the caller's stack: no malloc for
// the common event; Free is a no-op, the pool goes at the end of the call.
using state_alloc_t = rapidjson::MemoryPoolAllocator<>;
using validator_t = rapidjson::GenericSchemaValidator<
    schema_doc_t, rapidjson::BaseReaderHandler<>, state_alloc_t>;

constexpr std::size_t validation_buffer_bytes = 8192;
constexpr int max_explain_depth = 8;
constexpr std::size_t max_pool = 16;

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
  auto fixed = guard_full_precision(json);
  if (fixed)
    json = *fixed;
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
  auto p = std::make_unique<compiled_schema::impl>();
  p->path = name;
  if (auto problem =
          bundle_schema(std::move(doc), dir, name, p->root, p->accepted_any);
      !problem.empty())
    return problem;
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
