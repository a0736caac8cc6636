// The bodies of the fuzz targets, one per input parser. Each fuzzer in tests/fuzz/ calls one, and
// tests/fuzz_regression_test.cc runs the checked-in corpus and every crash input through them.
//
// A body returns normally when the parser accepts its input or refuses it with InputError (one
// line, naming a place). Anything else is a finding: another exception escapes, a sanitizer
// fires, or a broken invariant calls abort() after saying which on stderr.
#pragma once

#include <cstddef>
#include <cstdint>

namespace planner::fuzz {

/// ParseModelJson on any text (the planner's schema or a Hugging Face config.json), then the
/// cost models on the model it accepts: every figure finite and not negative.
void ModelJson(const uint8_t* data, size_t size);

/// The same, for JSON objects that are Hugging Face configs ("architectures" or "model_type").
void HfConfig(const uint8_t* data, size_t size);

/// ExtendCatalogJson: the GPUs, links and models of a --catalog file.
void CatalogJson(const uint8_t* data, size_t size);

/// ParseSweepJson, then ExpandScenarios when the grid is small. Inputs that name a file
/// (a string with '/', or one naming a file that exists) are skipped: the fuzzer reads no files.
void SweepJson(const uint8_t* data, size_t size);

/// RunCli with the arguments of `data`, one a line, its output kept in memory. Skipped, so that
/// nothing is written or read: `merge`, --out or --emit outside `sweep`, and any argument that
/// names an existing file or contains '/'.
void CliArgs(const uint8_t* data, size_t size);

/// The sweep directory's files and files given by path. The first byte chooses:
/// 'm': the rest is manifest.json (ParseManifestJson; what it accepts round-trips);
/// 'r': the rest is results.jsonl of a 4-scenario sweep (ParseResultsText; the summaries then
///      read every kept line without an error of their own);
/// 'p': the rest is "NAME\nK": a file of that name (any bytes but '/' and NUL) made in a private
///      temporary directory as K = 'f' a regular file, 'q' a FIFO, 'd' a directory, 'h' a sparse
///      file of 2 GiB, 's' a symlink to a FIFO; then read as a sweep, model, catalog, manifest
///      and results file. Each must be refused with an InputError at once, never block.
void StoreFiles(const uint8_t* data, size_t size);

}  // namespace planner::fuzz
