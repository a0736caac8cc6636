// The command line's options: the shared flags, their value parsers, and Boost's parse made
// strict (whole names, no stray words, one-line errors).
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cli_common.h"
#include "planner/input/sizes.h"
#include "planner/model/error.h"
#include "planner/model/text.h"

namespace planner {
namespace po = boost::program_options;

void AddSpecOptions(po::options_description& d, SpecInput& in) {
  d.add_options()
      ("model", po::value(&in.model), "catalog name or JSON file (planner schema or HF config.json)")
      ("catalog", po::value(&in.catalogs)->composing(), "JSON file adding models, GPUs, links")
      ("gpu", po::value(&in.gpu), "GPU type (planner list gpus)")
      ("gpus", PositiveValue(&in.gpus, "--gpus"), "number of GPUs")
      ("gpus-per-node", PositiveValue(&in.gpus_per_node, "--gpus-per-node"),
       "GPUs per node (default 8)")
      ("intra-link", po::value(&in.intra_link), "link inside a node (default: the GPU's)")
      ("inter-link", po::value(&in.inter_link), "NIC type between nodes (default: the GPU's)")
      ("nics-per-node", PositiveValue(&in.nics_per_node, "--nics-per-node"),
       "NICs per node (default: GPUs per node)")
      ("scale-up-domain", PositiveValue(&in.scale_up_domain, "--scale-up-domain"),
       "GPUs the intra link joins, e.g. 72 for GB200 NVL72 (default: the GPU's, else a node)")
      ("host-memory", po::value(&in.host_memory),
       "host memory per node for offloaded state, e.g. 2Ti (default: the GPU's server's, else "
       "1 TiB for 8 x 80 GB+ GPUs, else 4x the node's GPU memory)")
      ("seq-len", SizeValue(&in.seq_len, "--seq-len", SiBase::kBinary),
       "tokens per sequence, e.g. 4096 or 128k = 131072 (default: the model's)")
      ("global-batch", PositiveValue(&in.global_batch, "--global-batch"),
       "sequences per optimizer step")
      ("tokens-per-batch", SizeValue(&in.tokens_per_batch, "--tokens-per-batch", SiBase::kDecimal),
       "tokens per optimizer step, e.g. 4M = 4000000 or 4Mi = 4194304")
      ("precision", po::value(&in.precision), "bf16 (default), fp16, fp8, fp32, tf32")
      ("framework", po::value(&in.framework),
       "megatron (default), nemo, deepspeed, torchtitan, fsdp (PyTorch FSDP1: Composer, metaseq)")
      ("grad-precision", po::value(&in.grad_precision),
       "fp32 or 16bit (default: the framework's; nemo reduces in bf16)")
      ("optimizer", po::value(&in.optimizer), "adamw (default), adamw-8bit, sgd")
      ("schedule", po::value(&in.schedule), "1f1b (default), interleaved, gpipe, naive")
      ("attention", po::value(&in.attention), "flash (default) or standard")
      ("comm-overlap", po::bool_switch(&in.comm_overlap),
       "overlap TP collectives and pipeline sends with matmuls (Megatron --tp-comm-overlap)")
      ("cuda-graphs", po::bool_switch(&in.cuda_graphs),
       "kernels replayed from CUDA graphs: no launch gaps (Megatron --enable-cuda-graph; megatron, "
       "nemo)")
      ("eager", po::bool_switch(&in.eager),
       "PyTorch eager: element-wise operators unfused (torchtitan without torch.compile)")
      ("no-comm-overlap", po::bool_switch(&in.no_comm_overlap),
       "turn off the framework's default overlap (nemo has it on)")
      ("offload", po::value(&in.offload),
       "optimizer: states, fp32 master and gradient shard in host memory, CPU Adam (deepspeed)")
      ("zero3-max-live-params", po::value(&in.zero3_max_live_params),
       "ZeRO-3 gathered-parameter cap, elements (deepspeed stage3_max_live_parameters, 1e9)")
      ("calibration", po::value(&in.calibration),
       "constants fitted by `planner calibrate --out FILE` (default: the GPU's built-in set)");
}

namespace {

const char* FormatName(Format f) {
  switch (f) {
    case Format::kTable: return "table";
    case Format::kJson: return "json";
    case Format::kCsv: return "csv";
  }
  return "table";
}

std::string FormatNames(const std::vector<Format>& formats) {
  std::vector<std::string> names;
  for (const Format f : formats) names.push_back(FormatName(f));
  return Join(names, ", ");
}

}  // namespace

Format CheckedFormat(const std::string& typed, const std::vector<Format>& formats) {
  const Format f = ParseFormat(typed, "--format");
  if (std::find(formats.begin(), formats.end(), f) == formats.end()) {
    throw InputError("--format", "this command has no " + typed +
                                     " output; expected one of: " + FormatNames(formats));
  }
  return f;
}

void AddOutputOptions(po::options_description& d, OutputInput& o,
                      const std::vector<Format>& formats) {
  d.add_options()
      ("format", po::value(&o.format),
       (FormatNames(formats) + " (the first is the default)").c_str())
      ("train-tokens", BoundedValue(&o.cost.train_tokens, 1e18, "--train-tokens"),
       "tokens to train, for days and cost, e.g. 2T = 2e12")
      ("gpu-hour-cost", BoundedValue(&o.cost.gpu_hour_cost, 1e6, "--gpu-hour-cost"),
       "price of one GPU-hour")
      ("currency", po::value(&o.cost.currency)->notifier([](const std::string& c) {
         if (c.empty() || c.size() > 8 || c.find_first_of(" \t\r\n") != std::string::npos) {
           throw InputError("--currency", "expected a currency code such as USD or EUR");
         }
       }),
       "currency of --gpu-hour-cost, printed after money (default USD)")
      ("explain", po::bool_switch(&o.explain), "show the formulas and why plans were rejected")
      ("help,h", po::bool_switch(&o.help), "this help");
}

po::typed_value<std::string>* SizeValue(int64_t* v, const char* flag, SiBase base) {
  return po::value<std::string>()->notifier([v, flag, base](const std::string& text) {
    const double x = ParseSize(text, flag, base);
    // Written so that NaN fails too; 2^62 keeps the integer exact and far from overflow.
    if (!(x >= 1 && x <= 4.6e18) || x != std::floor(x)) {
      throw InputError(flag, "must be a positive integer, got " + text);
    }
    *v = static_cast<int64_t>(x);
  });
}

po::typed_value<std::string>* BoundedValue(double* v, double most, const char* flag) {
  return po::value<std::string>()->notifier([v, most, flag](const std::string& text) {
    const double x = ParseSize(text, flag, SiBase::kDecimal);  // 2T tokens = 2e12
    *v = x;
    // Written so that NaN fails too.
    if (!(x >= 0 && x <= most)) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "must be a number from 0 to %g, got %g", most, x);
      throw InputError(flag, buf);
    }
  });
}

namespace {

// What a flag's value should have looked like, from the type it is read into.
std::string Expected(const po::options_description& d, const std::string& flag) {
  const size_t name = flag.find_first_not_of('-');
  const po::option_description* o =
      name == std::string::npos ? nullptr : d.find_nothrow(flag.substr(name), false);
  const po::value_semantic* v = o == nullptr ? nullptr : o->semantic().get();
  if (dynamic_cast<const po::typed_value<int>*>(v) != nullptr) {
    return "an integer up to " + std::to_string(std::numeric_limits<int>::max());
  }
  if (dynamic_cast<const po::typed_value<int64_t>*>(v) != nullptr) return "an integer";
  if (dynamic_cast<const po::typed_value<double>*>(v) != nullptr) return "a number";
  return "";
}

// "unknown option; did you mean --gpus?" from the long names `d` knows.
std::string UnknownOption(const po::options_description& d, const std::string& flag) {
  std::vector<std::string> names;
  for (const auto& o : d.options()) names.push_back("--" + o->long_name());
  const std::string close = ClosestName(flag, names);
  return close.empty() ? "unknown option; see --help"
                       : "unknown option; did you mean " + close + "?";
}

// Boost fills its error messages by replacing "%value%"-style placeholders with what was typed,
// and loops forever when that contains the placeholder again (`--gpus %value%`). Messages are
// made from a copy of the arguments with '%' swapped for a byte no argument carries, then
// swapped back.
constexpr char kPercentStandIn = '\x1a';

std::string WithPercent(std::string s) {
  std::replace(s.begin(), s.end(), kPercentStandIn, '%');
  return s;
}

// A word no option took: Boost leaves it in the parse with no name and store() drops it, so
// `--gpus 8 16` planned for 8 and `--comm-overlap false` switched overlap on.
void RejectStrayWords(const po::parsed_options& parsed) {
  for (size_t i = 0; i < parsed.options.size(); ++i) {
    const po::option& o = parsed.options[i];
    if (!o.string_key.empty() || o.value.empty()) continue;
    const std::string word = WithPercent(o.value[0]);
    if (i == 0 || parsed.options[i - 1].string_key.empty()) {
      throw InputError("arguments", "unexpected word '" + word + "'; options start with --");
    }
    const po::option& before = parsed.options[i - 1];
    const std::string flag = "--" + WithPercent(before.string_key);
    if (before.value.empty()) {
      throw InputError(flag, "takes no value, got '" + word +
                                 "' (give the flag to turn it on, leave it out for off)");
    }
    throw InputError(flag, "takes one value, got another word '" + word + "'");
  }
}

void Parse(const std::vector<std::string>& args, const po::options_description& d,
           const po::positional_options_description* positional) {
  po::command_line_parser parser(args);
  // Whole names only: Boost's default style guesses `--mod` as --model and `--mode` too.
  parser.options(d).style(po::command_line_style::default_style &
                          ~po::command_line_style::allow_guessing);
  if (positional != nullptr) parser.positional(*positional);
  const po::parsed_options parsed = parser.run();
  RejectStrayWords(parsed);
  po::variables_map vm;
  po::store(parsed, vm);
  po::notify(vm);
}

// The InputError for the error that parsing `args` with `d` raised.
InputError ParseError(std::vector<std::string> args, const po::options_description& d,
                      const po::positional_options_description* positional) {
  for (std::string& a : args) std::replace(a.begin(), a.end(), '%', kPercentStandIn);
  try {
    Parse(args, d, positional);
  } catch (const po::unknown_option& e) {
    const std::string name = e.get_option_name().empty() ? "arguments" : e.get_option_name();
    return InputError(WithPercent(name), UnknownOption(d, WithPercent(name)));
  } catch (const po::invalid_option_value& e) {
    // Boost's text is "the argument ('abc') for option '--gpus' is invalid".
    const std::string what = WithPercent(e.what());
    const size_t open = what.find("('");
    const size_t close = what.rfind("') for option");
    const std::string value =
        open != std::string::npos && close != std::string::npos && open < close
            ? what.substr(open + 2, close - open - 2)
            : "";
    const std::string name =
        e.get_option_name().empty() ? "arguments" : WithPercent(e.get_option_name());
    const std::string expected = Expected(d, name);
    return InputError(name,
                      expected.empty() ? what : "expected " + expected + ", got '" + value + "'");
  } catch (const po::error_with_option_name& e) {
    const std::string name = e.get_option_name().empty() ? "arguments" : e.get_option_name();
    return InputError(WithPercent(name), WithPercent(e.what()));
  } catch (const po::error& e) {
    return InputError("arguments", WithPercent(e.what()));
  }
  return InputError("arguments", "malformed arguments");
}

}  // namespace

void ParseOptions(const std::vector<std::string>& args, const po::options_description& d,
                  const po::positional_options_description* positional) {
  try {
    Parse(args, d, positional);
  } catch (const po::error&) {
    throw ParseError(args, d, positional);  // never e.what(): see kPercentStandIn
  }
}

}  // namespace planner
