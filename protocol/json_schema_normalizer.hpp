#pragma once

// The normalizer of protocol/json_schema_bundle.cpp (step 1 of
// protocol/json_schema.cpp): walks every schema position of a document,
// checks keyword values, translates later drafts into draft-04 terms or
// refuses them, and records `$ref`s. Included by json_schema_bundle.cpp
// only.

#include "protocol/json_schema_internal.hpp"
#include "protocol/json_schema_regex.hpp"
#include "protocol/json_util.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace herald::protocol::schema_internal {

// -- normalization
// -------------------------------------------------------------

inline const std::set<std::string_view>& unsupported_keywords() {
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
/// A `$ref` fragment as RapidJSON reads one: it wants percent-encoded every
/// character outside `[A-Za-z0-9._~-]` (and `/`, `%`), even those RFC 3986
/// allows in a fragment, so `#/$defs/x` would be no pointer at all.
/// Encoding them leaves the pointer the same.
inline std::string rapidjson_fragment(std::string_view fragment) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(fragment.size());
  for (std::size_t i = 0; i < fragment.size(); ++i) {
    auto c = static_cast<unsigned char>(fragment[i]);
    bool keep = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
                || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_'
                || c == '~' || c == '/' || c == '%' || (c == '#' && i == 0);
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

inline const std::set<std::string_view>& annotation_keywords() {
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

inline const std::set<std::string_view>& type_names() {
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

  /// Checks what RapidJSON 1.1 compiles in every object of the document,
  /// wherever it stands: its GenericSchemaDocument makes a schema of every
  /// object it finds (CreateSchemaRecursive), under unknown keywords and in
  /// enum or example data too, where run() does not look. Each such
  /// object's string `pattern` and `patternProperties` names go to
  /// RapidJSON's regex, a `patternProperties` that is not an object is read
  /// as one, and a local `$ref` is followed with no check for cycles or
  /// for a target that is not an object. So every pattern is checked
  /// here (run() leaves them to this), and a `$ref` where no schema
  /// stands is refused.
  /// Found by tests/fuzz (json_schema_compile): a pattern with a byte that
  /// is not UTF-8 under a misspelled `properties` broke the regex builder;
  /// `{"x":{"$ref":"#/x"}}` overflowed the stack. Run it after every `$ref`
  /// target was normalized. Empty when all is well, else
  /// `<name>: <pointer>: <problem>`.
  std::string check_compiled_everywhere() {
    if (!compiled_everywhere(doc_, ""))
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
    // Found by tests/fuzz (json_schema_compile): RapidJSON's regex breaks
    // on the shapes regex_shape refuses, loses its place on bytes that are
    // not UTF-8, and stops at a NUL.
    auto text = view(v);
    if (!valid_utf8(text) || text.find('\0') != std::string_view::npos)
      return fail_at(at, "pattern " + render(v)
                             + " is not valid UTF-8 without NUL");
    if (!regex_shape{text}.ok())
      return fail_at(at, "pattern " + render(v)
                             + " has unbalanced parentheses, an empty "
                               "group or alternative, a quantifier without "
                               "an atom, or a repetition of what can match "
                               "nothing");
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

  bool compiled_everywhere(const value_t& v, const std::string& at) {
    if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
        if (!compiled_everywhere(v[i], at + "/" + std::to_string(i)))
          return false;
      return true;
    }
    if (!v.IsObject())
      return true;
    if (v.HasMember("$ref") && !visited(&v))
      return fail_at(at + "/$ref",
                     "a $ref where no schema stands (under an unknown "
                     "keyword, or in enum, const, default or examples "
                     "data) is refused: RapidJSON would follow it unchecked");
    if (auto it = v.FindMember("pattern");
        it != v.MemberEnd() && it->value.IsString()
        && !check_regex(at + "/pattern", it->value))
      return false;
    if (auto it = v.FindMember("patternProperties"); it != v.MemberEnd()) {
      if (!it->value.IsObject())
        return fail_at(at + "/patternProperties", "must be an object");
      for (auto& m : it->value.GetObject())
        if (!check_regex(at + "/patternProperties/"
                             + escape_token(view(m.name)),
                         m.name))
          return false;
    }
    for (auto& m : v.GetObject())
      if (!compiled_everywhere(m.value, at + "/" + escape_token(view(m.name))))
        return false;
    return true;
  }

  bool subschemas_in_object(value_t& obj, const char* key,
                            const std::string& at) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd())
      return true;
    if (!it->value.IsObject())
      return fail_at(at + "/" + key, "must be an object");
    for (auto& m : it->value.GetObject()) {
      auto where = at + "/" + key + "/" + escape_token(view(m.name));
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
    fragment = rapidjson_fragment(fragment);
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
    // What RapidJSON's regex can run is checked in every object by
    // check_compiled_everywhere, schema positions or not.
    if (auto it = v.FindMember("pattern");
        it != v.MemberEnd() && !it->value.IsString())
      return fail_at(at + "/pattern", "must be a string");
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
    if (!subschemas_in_object(v, "properties", at)
        || !subschemas_in_object(v, "patternProperties", at)
        || !subschemas_in_object(v, "definitions", at)
        || !subschemas_in_object(v, "$defs", at))
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

} // namespace herald::protocol::schema_internal
