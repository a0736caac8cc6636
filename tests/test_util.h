// Helpers the test files share: one copy each (style.md).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "planner/cli/cli.h"
#include "planner/input/catalog.h"
#include "planner/model/error.h"

namespace planner {

/// The InputError that `f` throws (a test failure if it throws none).
inline InputError ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError";
  return InputError("", "");
}

/// What `planner ARGS...` returned and printed.
struct Outcome {
  int rc = -1;
  std::string out, err;
};

/// Runs the command line in-process.
inline Outcome Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int rc = RunCli(args, out, err);
  return {rc, out.str(), err.str()};
}

/// A model of the built-in catalog.
inline Model CatalogModel(const std::string& name) {
  return FindModel(BuiltinCatalog(), name, "test");
}

/// `gpus` GPUs of the catalog's `gpu` with its own intra- and inter-node links.
inline Cluster CatalogCluster(const std::string& gpu, int64_t gpus) {
  const Catalog c = BuiltinCatalog();
  Cluster cluster{.gpu = FindGpu(c, gpu, "test"), .gpus = gpus};
  cluster.intra = FindLink(c, cluster.gpu.intra_link, "test");
  cluster.inter = FindLink(c, cluster.gpu.inter_link, "test");
  return cluster;
}

}  // namespace planner
