// Step 1 of protocol/json_schema.cpp: a schema file normalized, and the
// files its external `$ref`s name merged in.

#include "protocol/json_schema_internal.hpp"
#include "protocol/json_schema_normalizer.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

namespace herald::protocol::schema_internal {

namespace {

namespace fs = std::filesystem;

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
    if (auto problem = ref_cycle(); !problem.empty())
      return problem;
    for (auto& d : docs_)
      if (auto problem = d.norm->check_compiled_everywhere(); !problem.empty())
        return problem;
    return {};
  }

  /// A `$ref` that comes back to itself through nothing but `$ref`s and
  /// the combinators RapidJSON expands as it builds the schema (`{"$ref":
  /// "#"}`, `{"$ref":"#","type":"string"}`, `a` -> `b` -> `a`) makes
  /// RapidJSON 1.1 recurse until the stack overflows (found by tests/fuzz,
  /// json_schema_compile). A cycle through `properties`, `items` and the
  /// like is a recursive schema, and fine. Empty when there is none.
  std::string ref_cycle() const {
    // Where each ref points, as a plain JSON pointer into its target.
    std::vector<std::string> targets(refs_.size());
    for (std::size_t i = 0; i < refs_.size(); ++i) {
      pointer_t p(refs_[i].fragment.data(), refs_[i].fragment.size());
      targets[i] = p.IsValid() ? stringify(p) : std::string{};
    }
    // i -> j: building i's target builds j's `$ref` at once.
    auto leads = [&](std::size_t i, std::size_t j) {
      auto& r = refs_[i];
      auto& next = refs_[j];
      return !r.any && !next.any && r.target == next.doc
             && expanded_at_once(targets[i], next.location);
    };
    for (std::size_t start = 0; start < refs_.size(); ++start) {
      std::vector<bool> seen(refs_.size(), false);
      std::vector<std::size_t> todo{start};
      while (!todo.empty()) {
        auto i = todo.back();
        todo.pop_back();
        for (std::size_t j = 0; j < refs_.size(); ++j) {
          if (!leads(i, j))
            continue;
          if (j == start)
            return docs_[refs_[start].doc].name + ": " + refs_[start].location
                   + "/$ref: "
                   + json_quoted(refs_[start].uri + refs_[start].fragment)
                   + " refers to itself without any keyword between";
          if (!seen[j]) {
            seen[j] = true;
            todo.push_back(j);
          }
        }
      }
    }
    return {};
  }

  /// True when `location` is `target` or under it through `allOf`,
  /// `anyOf`, `oneOf` (with an index) and `not` alone.
  static bool expanded_at_once(const std::string& target,
                               const std::string& location) {
    if (location.compare(0, target.size(), target) != 0)
      return false;
    std::string_view rest{location};
    rest.remove_prefix(target.size());
    auto token = [&] {
      rest.remove_prefix(1); // the '/'
      auto t = rest.substr(0, rest.find('/'));
      rest.remove_prefix(t.size());
      return t;
    };
    while (!rest.empty()) {
      if (rest[0] != '/')
        return false;
      auto t = token();
      if (t == "not")
        continue;
      if (t != "allOf" && t != "anyOf" && t != "oneOf")
        return false;
      if (rest.empty())
        return false;
      auto index = token();
      if (index.empty()
          || index.find_first_not_of("0123456789") != std::string_view::npos)
        return false;
    }
    return true;
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

std::string bundle_schema(std::unique_ptr<document_t> doc,
                          const std::string& dir, const std::string& name,
                          document_t& root,
                          std::vector<std::string>& accepted_any) {
  bundler b{dir};
  if (auto problem = b.add_root(std::move(doc), name); !problem.empty())
    return problem;
  if (auto problem = b.resolve(); !problem.empty())
    return problem;
  root.Swap(b.merge());
  accepted_any = std::move(b.accepted_any);
  return {};
}

} // namespace herald::protocol::schema_internal
