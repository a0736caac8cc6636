#include "planner/input/json_text.h"

#include <algorithm>
#include <set>

#include "planner/model/error.h"

namespace planner {
namespace {

// nlohmann's message without its "[json.exception.parse_error.101] " tag, on one line.
std::string Reason(const nlohmann::json::exception& e) {
  std::string message = e.what();
  if (message.rfind("[json.exception.", 0) == 0 && message.find("] ") != std::string::npos) {
    message.erase(0, message.find("] ") + 2);
  }
  for (char& ch : message) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  return message;
}

// Thrown from the parser's callback to stop at the first level too deep.
struct TooDeep {};
struct DuplicateKey {
  std::string key;
};

}  // namespace

nlohmann::json ParseJsonText(const std::string& text, const std::string& where) {
  using nlohmann::json;
  // nlohmann keeps the last of two equal keys; a file saying "layers" twice is a mistake, not
  // a choice, so the keys of each open object are kept to catch the second.
  std::vector<std::set<std::string>> open_objects;
  const json::parser_callback_t check = [&open_objects](int depth, json::parse_event_t event,
                                                        json& parsed) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.empty() &&
        !open_objects.back().insert(parsed.get<std::string>()).second) {
      throw DuplicateKey{parsed.get<std::string>()};
    }
    return true;
  };
  try {
    return json::parse(text, check);
  } catch (const TooDeep&) {
    throw InputError(
        where, "malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const DuplicateKey& d) {
    throw InputError(where + ": " + d.key, "key given twice; keep one");
  } catch (const json::exception& e) {
    throw InputError(where, "malformed JSON: " + Reason(e));
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
