// Waiting for a free batch slot: a serving replica as an M/M/c queue (Poisson arrivals, c slots).
#pragma once

#include <cstdint>

namespace planner {

/// Erlang C: the probability that an arrival waits, with `servers` slots and an offered load of
/// `offered` slots busy on average (arrival rate x service time). 1 when offered >= servers.
double ErlangC(int64_t servers, double offered);

/// Mean seconds an arrival waits for a slot: ErlangC x service / (servers - offered)
/// (Kleinrock, Queueing Systems vol. 1, s.3.5); infinite when the load reaches the slots.
double MeanQueueWaitSeconds(int64_t servers, double arrivals_per_s, double service_s);

}  // namespace planner
