#include "planner/model/calibration.h"

namespace planner {

const char* CalibrationSourceName(CalibrationSource s) {
  switch (s) {
    case CalibrationSource::kFitted: return "fitted";
    case CalibrationSource::kBorrowed: return "borrowed";
    case CalibrationSource::kFile: return "file";
    case CalibrationSource::kNone: break;
  }
  return "";
}

}  // namespace planner
