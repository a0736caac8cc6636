#include "planner/input/run_file.h"

#include <nlohmann/json.hpp>

#include "planner/input/json_text.h"
#include "planner/model/error.h"
#include "planner/model/files.h"
#include "planner/model/units.h"

namespace planner {
namespace {

using nlohmann::json;

class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}
  std::string Place(const std::string& key) const { return where_ + ": " + key; }
  const json* Get(const char* key) const {
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  void String(const char* key, std::string& out) const {
    if (const json* v = Get(key)) {
      if (!v->is_string()) throw InputError(Place(key), "expected a string, got " + ShownJson(*v));
      out = v->get<std::string>();
    }
  }
  template <typename Int>
  void Integer(const char* key, Int& out) const {
    if (const json* v = Get(key)) {
      if (!v->is_number_integer()) {
        throw InputError(Place(key), "expected an integer, got " + ShownJson(*v));
      }
      const int64_t n = v->get<int64_t>();
      if (n < 0 || n > kMaxGpus) throw InputError(Place(key), "out of range: " + ShownJson(*v));
      out = static_cast<Int>(n);
    }
  }
  void Number(const char* key, double& out) const {
    if (const json* v = Get(key)) {
      if (!v->is_number() || v->get<double>() < 0) {
        throw InputError(Place(key), "expected a non-negative number, got " + ShownJson(*v));
      }
      out = v->get<double>();
    }
  }
  void Bool(const char* key, bool& out) const {
    if (const json* v = Get(key)) {
      if (!v->is_boolean()) throw InputError(Place(key), "expected true or false, got " + ShownJson(*v));
      out = v->get<bool>();
    }
  }
  void Only(const std::vector<std::string>& keys) const {
    if (!obj_.is_object()) throw InputError(where_, "expected an object, got " + ShownJson(obj_));
    RejectUnknownKeys(obj_, keys, [this](const std::string& k) { return Place(k); }, "unknown key");
  }

 private:
  const json& obj_;
  std::string where_;
};

RunFilePlan ReadPlan(const json& obj, const std::string& where) {
  const Fields f(obj, where);
  f.Only({"tp", "pp", "dp", "cp", "ep", "micro_batch", "recompute", "recompute_layers",
          "sequence_parallel", "zero", "virtual_stages", "first_stage_layers",
          "last_stage_layers", "offload_activation_layers"});
  RunFilePlan out;
  Plan& p = out.plan;
  f.Integer("tp", p.tp);
  f.Integer("pp", p.pp);
  f.Integer("dp", out.dp);
  f.Integer("cp", p.cp);
  f.Integer("ep", p.ep);
  f.Integer("micro_batch", p.micro_batch);
  f.String("recompute", out.recompute);
  f.Integer("recompute_layers", p.recompute_layers);
  f.Bool("sequence_parallel", p.sequence_parallel);
  f.Integer("zero", p.zero_stage);
  f.Integer("virtual_stages", p.virtual_stages);
  f.Integer("first_stage_layers", p.first_stage_layers);
  f.Integer("last_stage_layers", p.last_stage_layers);
  f.Integer("offload_activation_layers", p.offload_activation_layers);
  return out;
}

RunMeasured ReadMeasured(const json& obj, const std::string& where) {
  const Fields f(obj, where);
  f.Only({"iter_time_s", "iter_time_derived", "peak_memory_GiB"});
  RunMeasured m;
  f.Number("iter_time_s", m.iter_time_s);
  f.Bool("iter_time_derived", m.iter_time_derived);
  double peak_gib = 0;
  f.Number("peak_memory_GiB", peak_gib);
  m.peak_memory_bytes = peak_gib * kGiB;
  return m;
}

}  // namespace

RunFile ParseRunFile(const std::string& text, const std::string& where) {
  const json doc = ParseJsonText(text, where);
  const Fields f(doc, where);
  f.Only({"description", "source", "model", "gpu", "gpu_hbm_GB", "gpu_hbm_TB_per_s",
          "gpu_peak_scale", "gpus", "gpus_per_node", "intra_link", "inter_link",
          "nics_per_node", "seq_len", "global_batch", "framework", "precision", "grad_precision",
          "attention", "comm_overlap", "overlap_grad_reduce", "eager", "eager_loss",
          "cuda_graphs", "offload", "zero3_max_live_params", "plan", "measured"});
  RunFile run;
  f.String("description", run.description);
  f.String("source", run.source);
  SpecInput& in = run.spec;
  if (const json* model = f.Get("model")) {
    if (model->is_object()) {
      in.model_json = model->dump();
    } else {
      f.String("model", in.model);
    }
  }
  f.String("gpu", in.gpu);
  f.Number("gpu_hbm_GB", in.gpu_hbm_gb);
  f.Number("gpu_hbm_TB_per_s", in.gpu_hbm_tb_per_s);
  f.Number("gpu_peak_scale", in.gpu_peak_scale);
  f.Integer("gpus", in.gpus);
  f.Integer("gpus_per_node", in.gpus_per_node);
  f.String("intra_link", in.intra_link);
  f.String("inter_link", in.inter_link);
  f.Integer("nics_per_node", in.nics_per_node);
  f.Integer("seq_len", in.seq_len);
  f.Integer("global_batch", in.global_batch);
  f.String("framework", in.framework);
  f.String("precision", in.precision);
  f.String("grad_precision", in.grad_precision);
  f.String("attention", in.attention);
  if (const json* v = f.Get("comm_overlap")) {
    bool on = false;
    f.Bool("comm_overlap", on);
    in.comm_overlap = on;
    in.no_comm_overlap = !on;
    (void)v;
  }
  if (f.Get("overlap_grad_reduce") != nullptr) {
    bool on = true;
    f.Bool("overlap_grad_reduce", on);
    in.overlap_grad_reduce = on ? "on" : "off";
  }
  f.Bool("eager", in.eager);
  f.Bool("cuda_graphs", in.cuda_graphs);
  f.String("offload", in.offload);
  f.Number("zero3_max_live_params", in.zero3_max_live_params);
  f.Bool("eager_loss", in.eager_loss);
  if (const json* plan = f.Get("plan")) run.plan = ReadPlan(*plan, where + ": plan");
  if (const json* measured = f.Get("measured")) {
    run.measured = ReadMeasured(*measured, where + ": measured");
  }
  return run;
}

RunFile LoadRunFile(const std::string& path) { return ParseRunFile(ReadTextFile(path, path), path); }

}  // namespace planner
