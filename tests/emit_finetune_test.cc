// The Hugging Face fine-tuning files: every keyword and key checked against the field lists
// extracted from transformers, PEFT, accelerate and DeepSpeed (tests/fixtures/README.md says
// which commits), and the plan's numbers found where the files put them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "finetune_parse.h"
#include "planner/model/error.h"

namespace planner {
namespace {

FinetuneFiles Hf(const FinetuneCase& c) {
  return EmitHuggingFaceFinetune(c.specs.model, c.specs.cluster, c.plan, c.setup);
}

void ExpectAllKnown(const std::map<std::string, std::string>& used,
                    const std::set<std::string>& known, const std::string& label) {
  for (const auto& [key, value] : used) EXPECT_TRUE(known.contains(key)) << label << ": " << key;
}

TEST(EmitFinetuneHf, EveryKeywordIsAnUpstreamField) {
  const auto training = LoadUpstreamList("transformers-training-arguments.txt");
  const auto lora = LoadUpstreamList("peft-lora-config-fields.txt");
  const auto bnb = LoadUpstreamList("transformers-bitsandbytes-config.txt");
  const auto optims = LoadUpstreamList("transformers-optimizer-names.txt");
  const auto accelerate = LoadUpstreamList("accelerate-config-keys.txt");
  ASSERT_GT(training.size(), 100u);
  ASSERT_TRUE(optims.contains("paged_adamw_8bit"));
  for (const FinetuneCase& c : FinetuneCases()) {
    const FinetuneFiles f = Hf(c);
    ASSERT_FALSE(f.files.empty()) << c.label;
    const std::string py = FileText(f, "train.py");
    const auto args = Kwargs(py, "TrainingArguments");
    ASSERT_FALSE(args.empty()) << c.label;
    ExpectAllKnown(args, training, c.label);
    ExpectAllKnown(Kwargs(py, "LoraConfig"), lora, c.label);
    ExpectAllKnown(Kwargs(py, "BitsAndBytesConfig"), bnb, c.label);
    const std::string optim = args.at("optim");
    EXPECT_TRUE(optims.contains(optim.substr(1, optim.size() - 2))) << c.label << ": " << optim;
    ExpectAllKnown(YamlKeys(FileText(f, "accelerate.yaml")), accelerate, c.label);
  }
}

TEST(EmitFinetuneHf, DeepSpeedJsonKeysAreDeepSpeeds) {
  const auto known = LoadNameList("deepspeed-config-keys.txt");
  const FinetuneCase c = FinetuneCases()[2];  // full ZeRO-3 + offload on 16 GPUs
  const nlohmann::json ds = nlohmann::json::parse(FileText(Hf(c), "ds_config.json"));
  for (const std::string& key : ConfigKeys(ds)) EXPECT_TRUE(known.contains(key)) << key;
  // DeepSpeed's identity: train_batch_size = micro 1 x accumulation 1 x 16 data-parallel ranks.
  EXPECT_EQ(ds["train_batch_size"], 16);
  EXPECT_EQ(ds["train_micro_batch_size_per_gpu"], 1);
  EXPECT_EQ(ds["zero_optimization"]["stage"], 3);
  EXPECT_EQ(ds["zero_optimization"]["offload_optimizer"]["device"], "cpu");
  EXPECT_EQ(ds["zero_optimization"]["offload_param"]["device"], "cpu");
  EXPECT_EQ(ds["bf16"]["enabled"], true);
}

TEST(EmitFinetuneHf, QloraOnOneGpuLoadsNf4AndPreparesForKbitTraining) {
  const FinetuneCase c = FinetuneCases()[0];
  const FinetuneFiles f = Hf(c);
  const std::string py = FileText(f, "train.py");
  const auto bnb = Kwargs(py, "BitsAndBytesConfig");
  ExpectValues(bnb,
               {{"load_in_4bit", "True"},
                {"bnb_4bit_quant_type", "\"nf4\""},
                {"bnb_4bit_use_double_quant", "True"},
                {"bnb_4bit_compute_dtype", "torch.bfloat16"}},
               c.label);
  EXPECT_FALSE(bnb.contains("bnb_4bit_quant_storage"));  // only FSDP / ZeRO-3 need it
  EXPECT_NE(py.find("prepare_model_for_kbit_training(\n"), std::string::npos);
  const auto lora = Kwargs(py, "LoraConfig");
  ExpectValues(lora, {{"r", "16"}, {"lora_alpha", "32"}, {"task_type", "\"CAUSAL_LM\""}}, c.label);
  // Llama's attention and SwiGLU projections (transformers' modeling_llama.py).
  EXPECT_EQ(lora.at("target_modules"),
            "['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']");
  const auto args = Kwargs(py, "TrainingArguments");
  ExpectValues(args,
               {{"per_device_train_batch_size", "2"},  // the plan's micro-batch
                {"gradient_accumulation_steps", "8"},
                {"optim", "\"paged_adamw_8bit\""},
                {"bf16", "True"},
                {"gradient_checkpointing", "True"}},
               c.label);
  EXPECT_NE(py.find("\"meta-llama/Meta-Llama-3-8B\""), std::string::npos);
  const auto yaml = YamlKeys(FileText(f, "accelerate.yaml"));
  EXPECT_EQ(yaml.at("distributed_type"), "'NO'");
  EXPECT_EQ(yaml.at("num_processes"), "1");
  EXPECT_TRUE(FileText(f, "ds_config.json").empty());
}

TEST(EmitFinetuneHf, LoraOnFsdpWrapsDecoderLayersAndCheckpointsThroughFsdp) {
  const FinetuneCase c = FinetuneCases()[1];
  const FinetuneFiles f = Hf(c);
  const auto yaml = YamlKeys(FileText(f, "accelerate.yaml"));
  ExpectValues(yaml,
               {{"distributed_type", "FSDP"},
                {"num_processes", "2"},
                {"num_machines", "1"},
                {"mixed_precision", "bf16"},
                {"fsdp_config.fsdp_sharding_strategy", "FULL_SHARD"},
                {"fsdp_config.fsdp_transformer_layer_cls_to_wrap", "LlamaDecoderLayer"},
                {"fsdp_config.fsdp_use_orig_params", "true"},
                {"fsdp_config.fsdp_activation_checkpointing", "true"},
                {"fsdp_config.fsdp_offload_params", "false"}},
               c.label);
  const std::string py = FileText(f, "train.py");
  // The Trainer refuses gradient_checkpointing next to FSDP's own activation checkpointing.
  EXPECT_FALSE(Kwargs(py, "TrainingArguments").contains("gradient_checkpointing"));
  EXPECT_EQ(Kwargs(py, "TrainingArguments").at("per_device_train_batch_size"), "4");
  EXPECT_NE(py.find("autocast_adapter_dtype=False"), std::string::npos);
  EXPECT_NE(FileText(f, "run.sh").find("accelerate launch --config_file accelerate.yaml"),
            std::string::npos);
}

TEST(EmitFinetuneHf, QloraOnFsdpLoadsEfficientlyAndStoresNf4InBf16) {
  FinetuneCase c = FinetuneCases()[1];
  c.plan.method = FinetuneMethod::kQlora;
  const FinetuneFiles f = Hf(c);
  const auto yaml = YamlKeys(FileText(f, "accelerate.yaml"));
  EXPECT_EQ(yaml.at("fsdp_config.fsdp_cpu_ram_efficient_loading"), "true");
  EXPECT_EQ(yaml.at("fsdp_config.fsdp_sync_module_states"), "true");
  const std::string py = FileText(f, "train.py");
  EXPECT_EQ(Kwargs(py, "BitsAndBytesConfig").at("bnb_4bit_quant_storage"), "torch.bfloat16");
  EXPECT_EQ(py.find("prepare_model_for_kbit_training(\n"), std::string::npos);
  EXPECT_EQ(py.find("device_map"), std::string::npos);
}

TEST(EmitFinetuneHf, FullZero3OnTwoNodesLaunchesPerNode) {
  const FinetuneCase c = FinetuneCases()[2];
  const FinetuneFiles f = Hf(c);
  const auto yaml = YamlKeys(FileText(f, "accelerate.yaml"));
  ExpectValues(yaml,
               {{"distributed_type", "DEEPSPEED"},
                {"num_processes", "16"},
                {"num_machines", "2"},  // 16 H100s, 8 a node
                {"deepspeed_config.deepspeed_config_file", "ds_config.json"}},
               c.label);
  EXPECT_FALSE(yaml.contains("mixed_precision"));  // accelerate refuses it next to a DS file
  const std::string run = FileText(f, "run.sh");
  EXPECT_NE(run.find("--machine_rank \"${NODE_RANK"), std::string::npos);
  const auto args = Kwargs(FileText(f, "train.py"), "TrainingArguments");
  EXPECT_EQ(args.at("deepspeed"), "os.path.join(HERE, \"ds_config.json\")");
  EXPECT_FALSE(Kwargs(FileText(f, "train.py"), "LoraConfig").size());
  EXPECT_NE(FileText(f, "train.py").find("dtype=torch.float32"), std::string::npos);
}

TEST(EmitFinetuneHf, GaloreUsesTransformersGaloreOptimizer) {
  const FinetuneCase c = FinetuneCases()[3];
  const auto args = Kwargs(FileText(Hf(c), "train.py"), "TrainingArguments");
  EXPECT_EQ(args.at("optim"), "\"galore_adamw_8bit\"");  // GaLore with 8-bit AdamW states
  EXPECT_EQ(args.at("optim_target_modules"), "[r\".*attn.*\", r\".*mlp.*\"]");
  EXPECT_NE(args.at("optim_args").find("rank=128"), std::string::npos);
  EXPECT_EQ(args.at("gradient_accumulation_steps"), "16");
}

TEST(EmitFinetuneHf, FreezeTrainsOnlyTheTopBlocksWithoutAdapters) {
  const FinetuneCase c = FinetuneCases()[4];
  const std::string py = FileText(Hf(c), "train.py");
  EXPECT_NE(py.find("TRAINED_BLOCKS = 4"), std::string::npos);
  EXPECT_NE(py.find("model.requires_grad_(False)"), std::string::npos);
  // blocks[-0:] would be every block: the slice counts from the length.
  EXPECT_NE(py.find("blocks[len(blocks) - TRAINED_BLOCKS:]"), std::string::npos);
  EXPECT_EQ(py.find("LoraConfig"), std::string::npos);
  EXPECT_EQ(py.find("peft"), std::string::npos);
  // No Hugging Face id given: a marked placeholder that stops with a message.
  EXPECT_NE(py.find("PLACEHOLDER (model)"), std::string::npos);
  EXPECT_NE(py.find("MODEL_ID = os.environ.get(\"MODEL_ID\", \"\")"), std::string::npos);
}

TEST(EmitFinetuneHf, TensorParallelPlansGetANoteNotFiles) {
  FinetuneCase c = FinetuneCases()[1];
  c.plan.tp = 2;
  c.plan.dp = 1;
  const FinetuneFiles f = Hf(c);
  EXPECT_TRUE(f.files.empty());
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_NE(f.notes[0].find("TP 2"), std::string::npos);
}

TEST(EmitFinetuneHf, TargetModulesFollowTheArchitectureFamily) {
  const AdapterTargets both = kAllTargets;
  // Phi-3 fuses QKV and gate/up (transformers' modeling_phi3.py).
  EXPECT_EQ(LoraTargetModules(MakeSpecs("phi-3-mini", "a100-80gb", 1).model, both),
            (std::vector<std::string>{"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}));
  // DeepSeek-V3's MLA: low-rank query and key/value projections (modeling_deepseek_v3.py).
  const auto mla = LoraTargetModules(MakeSpecs("deepseek-v3", "h100-sxm", 8).model, {});
  EXPECT_EQ(mla, (std::vector<std::string>{"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa",
                                           "kv_b_proj", "o_proj"}));
  // ChatGLM's modeling code is its repository's own: trusted explicitly, and no SDPA asked of it.
  FinetuneCase glm = FinetuneCases()[1];
  glm.specs = MakeSpecs("chatglm-6b", "a100-80gb", 2);
  const std::string py = FileText(Hf(glm), "train.py");
  EXPECT_EQ(Kwargs(py, "AutoModelForCausalLM.from_pretrained").at("trust_remote_code"), "True");
  EXPECT_EQ(py.find("sdpa"), std::string::npos);
  EXPECT_EQ(Kwargs(py, "LoraConfig").at("target_modules"), "['query_key_value', 'dense']");
  // GPT-3 has no Hugging Face implementation the planner knows: every linear layer.
  EXPECT_EQ(LoraTargetModules(MakeSpecs("gpt3-175b", "h100-sxm", 8).model, {}),
            (std::vector<std::string>{"all-linear"}));
}

TEST(EmitFinetuneHf, TrainPyIsValidPython) {
  if (std::system("python3 -c pass >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("emit_finetune_py_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  for (const FinetuneCase& c : FinetuneCases()) {
    const std::string file = (dir / "train.py").string();
    std::ofstream(file) << FileText(Hf(c), "train.py");
    const std::string command = "python3 -c \"import ast; ast.parse(open('" + file + "').read())\"";
    EXPECT_EQ(std::system(command.c_str()), 0) << c.label;
  }
  std::filesystem::remove_all(dir);
}

TEST(EmitFinetuneFiles, WritesTheSetAndRefusesAForeignDirectory) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("emit_finetune_out_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const FinetuneFiles f = Hf(FinetuneCases()[2]);
  WriteFinetuneFiles(dir.string(), f);
  EXPECT_TRUE(std::filesystem::exists(dir / "ds_config.json"));
  const auto perms = std::filesystem::status(dir / "run.sh").permissions();
  EXPECT_NE(perms & std::filesystem::perms::owner_exec, std::filesystem::perms::none);
  // An earlier set is replaced whole: the QLoRA set has no ds_config.json.
  FinetuneFiles with_note = Hf(FinetuneCases()[0]);
  with_note.notes = {"a note"};
  WriteFinetuneFiles(dir.string(), with_note);
  EXPECT_FALSE(std::filesystem::exists(dir / "ds_config.json"));
  EXPECT_EQ(ReadText((dir / "NOTES.txt").string()), "a note\n");
  std::ofstream(dir / "mine.txt") << "not the planner's";
  EXPECT_THROW(WriteFinetuneFiles(dir.string(), f), InputError);
  EXPECT_TRUE(std::filesystem::exists(dir / "mine.txt"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace planner
