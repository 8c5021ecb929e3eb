#pragma once
// Strict YAML reading shared by the configuration readers (link configuration, analog
// profiles): one document per text, and no key twice in a mapping. yaml-cpp's Load reads the
// first document and drops the rest silently ("frames: 1\n---\nsnr_db: 500" ran one frame),
// and keeps every copy of a repeated key (node[key] finds the first, a loop sees each in turn):
// either way the file would not mean what it says, so both are the configuration's error.
// Header-only, so amimo_core does not link yaml-cpp: include it only from components that do.

#include <amimo/core/error.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>
#include <string>
#include <string_view>

namespace amimo::yaml_strict {

/// " (line N)" for a node read from text, "" for one without a position.
inline std::string line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? std::string() : " (line " + std::to_string(mark.line + 1) + ")";
}

namespace detail {

/// Parser events ignored, except where a document starts.
class document_starts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { last_start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark last_start = YAML::Mark::null_mark();
};

}  // namespace detail

/// The text's only YAML document (a Null node for text without one). Throws
/// amimo::config_error when the text holds a second document (even an empty one: "a: 1\n---\n");
/// a malformed text throws yaml-cpp's exception, for the caller to word. Not YAML::LoadAll: it
/// stops at the first empty document (what follows one went unread) and loops for ever on some
/// malformed input (",\0n\0|", a fuzz finding); the parser here is asked for two documents at
/// most.
inline YAML::Node load_one_document(std::string_view text) {
  const std::string owned(text);
  YAML::Node document = YAML::Load(owned);
  std::istringstream stream(owned);
  YAML::Parser parser(stream);
  detail::document_starts starts;
  if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts)) {
    const YAML::Mark& at = starts.last_start;
    throw config_error("the text holds more than one YAML document (separated by '---'); give one" +
                       (at.is_null() ? std::string() : " (the second starts on line " + std::to_string(at.line + 1) + ")"));
  }
  return document;
}

/// Throws amimo::config_error "PREFIXkey 'K' given twice (line N)" when `map` (a mapping;
/// anything else is left alone) repeats a scalar key. Keys that are not scalars are left to
/// the caller, which refuses them with its own message.
inline void refuse_repeated_keys(const YAML::Node& map, const std::string& prefix = {}) {
  if (!map.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& item : map) {
    if (!item.first.IsScalar()) continue;
    if (!seen.insert(item.first.Scalar()).second) {
      throw config_error(prefix + "key '" + item.first.Scalar() + "' given twice" + line_of(item.first));
    }
  }
}

}  // namespace amimo::yaml_strict
