#include "planner/input/json_text.h"

#include <algorithm>
#include <set>

#include "planner/model/error.h"

namespace planner {
namespace {

// nlohmann's message without its "[json.exception.parse_error.101] " tag, on one line.
std::string Reason(std::string message) {
  if (message.rfind("[json.exception.", 0) == 0 && message.find("] ") != std::string::npos) {
    message.erase(0, message.find("] ") + 2);
  }
  for (char& ch : message) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  return message;
}

// A first pass over the text that builds nothing: nesting depth and keys given twice, the checks
// nlohmann's parse callback made. That callback's parser scans an array's earlier elements at
// the end of each object in it (nlohmann 3.11.2, json_sax_dom_callback_parser::end_object), so a
// catalog of 40,000 entries took seconds; this pass and a plain parse are both linear.
class Checker {
 public:
  using json = nlohmann::json;
  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(json::number_integer_t) { return Value(); }
  bool number_unsigned(json::number_unsigned_t) { return Value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return Value(); }
  bool string(json::string_t&) { return Value(); }
  bool binary(json::binary_t&) { return Value(); }
  bool start_object(std::size_t) {
    open_objects_.emplace_back();
    return Open();
  }
  bool key(json::string_t& key) {
    // nlohmann keeps the last of two equal keys; a file saying "layers" twice is a mistake, not
    // a choice, so the keys of each open object are kept to catch the second.
    if (!open_objects_.back().insert(key).second) {
      throw InputError(where_ + ": " + key, "key given twice; keep one");
    }
    return Value();
  }
  bool end_object() {
    open_objects_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) { return Open(); }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    throw InputError(where_, "malformed JSON: " + Reason(e.what()));
  }

  explicit Checker(std::string where) : where_(std::move(where)) {}

 private:
  // A value (or key) inside more than kMaxJsonDepth open arrays and objects is too deep.
  bool Value() const {
    if (depth_ > kMaxJsonDepth) {
      throw InputError(where_, "malformed JSON: nested deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
    }
    return true;
  }
  bool Open() {
    Value();
    ++depth_;
    return true;
  }

  std::string where_;
  int depth_ = 0;  // arrays and objects open
  std::vector<std::set<std::string>> open_objects_;
};

}  // namespace

nlohmann::json ParseJsonText(const std::string& text, const std::string& where) {
  Checker checker(where);
  nlohmann::json::sax_parse(text, &checker);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // the first pass has seen every error
    throw InputError(where, "malformed JSON: " + Reason(e.what()));
  }
}

std::string ShownJson(const nlohmann::json& v) {
  const std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

void RejectUnknownKeys(const nlohmann::json& obj, const std::vector<std::string>& keys,
                       const std::function<std::string(const std::string&)>& place,
                       const std::string& otherwise) {
  for (const auto& item : obj.items()) {
    if (std::find(keys.begin(), keys.end(), item.key()) != keys.end()) continue;
    const std::string close = ClosestName(item.key(), keys);
    throw InputError(place(item.key()),
                     close.empty() ? otherwise : "unknown key; did you mean " + close + "?");
  }
}

}  // namespace planner
