#include "planner/cost/queueing.h"

#include <limits>

namespace planner {

double ErlangC(int64_t servers, double offered) {
  if (servers <= 0 || offered >= static_cast<double>(servers)) return 1.0;
  if (offered <= 0) return 0.0;
  // Erlang B by its stable recursion B(k) = a B(k-1) / (k + a B(k-1)), then
  // C = c B / (c - a (1 - B)); no factorials, so thousands of slots do not overflow.
  double b = 1.0;
  for (int64_t k = 1; k <= servers; ++k) b = offered * b / (static_cast<double>(k) + offered * b);
  const double c = static_cast<double>(servers);
  return c * b / (c - offered * (1.0 - b));
}

double MeanQueueWaitSeconds(int64_t servers, double arrivals_per_s, double service_s) {
  const double offered = arrivals_per_s * service_s;
  if (offered >= static_cast<double>(servers)) return std::numeric_limits<double>::infinity();
  return ErlangC(servers, offered) * service_s / (static_cast<double>(servers) - offered);
}

}  // namespace planner
