#include "planner/cost/collectives.h"

#include "device.h"

namespace planner {

// Ring algorithms: every rank sends (n - 1) / n of the buffer once per phase.
double AllReduceSeconds(double bytes, int n, double bytes_per_s, double latency_s) {
  if (n <= 1) return 0.0;
  const double steps = n - 1.0;
  return 2.0 * steps / n * bytes / bytes_per_s + 2.0 * steps * latency_s;
}

double AllGatherSeconds(double bytes, int n, double bytes_per_s, double latency_s) {
  if (n <= 1) return 0.0;
  const double steps = n - 1.0;
  return steps / n * bytes / bytes_per_s + steps * latency_s;
}

double AllToAllSeconds(double bytes, int n, double bytes_per_s, double latency_s) {
  if (n <= 1) return 0.0;
  const double steps = n - 1.0;
  return steps / n * bytes / bytes_per_s + steps * latency_s;
}

double SendSeconds(double bytes, double bytes_per_s, double latency_s) {
  return bytes / bytes_per_s + latency_s;
}

double TpLinkBytesPerS(const Cluster& c, int tp) {
  if (tp <= c.ScaleUpDomain()) return c.intra.one_way_bytes_per_s;
  // The ring the step-time model charges TP beyond the domain, at the link's full rate.
  return RingPath(c, tp, 1, 1.0).bytes_per_s;
}

}  // namespace planner
