// Unit constants. Internally memory is bytes, bandwidth bytes/s, compute FLOP/s, time seconds.
#pragma once

namespace planner {

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;  ///< bytes in a GiB (nvidia-smi, PyTorch)
inline constexpr double kGB = 1e9;                        ///< bytes in a GB (bandwidth, datasheets)
inline constexpr double kTera = 1e12;                     ///< TFLOP/s -> FLOP/s
inline constexpr double kGbit = 1e9 / 8.0;                ///< bytes/s in one Gbit/s

}  // namespace planner
