// Reading a model's shape from JSON: the planner's own schema or a Hugging Face config.json.
#pragma once

#include <string>

#include "planner/model/model.h"

namespace planner {

/// Parses JSON text. The planner's schema has "name", "layers", "hidden", ...; a Hugging Face
/// config has "architectures" / "model_type". `where` prefixes every error (a file name).
/// Unknown keys in the planner's schema and unknown architectures are errors.
Model ParseModelJson(const std::string& text, const std::string& where);

/// Reads and parses a file; throws InputError(where) when it cannot be read.
Model LoadModelFile(const std::string& path, const std::string& where);

}  // namespace planner
