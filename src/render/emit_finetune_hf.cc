// Hugging Face train.py: transformers' Trainer with PEFT (LoRA / QLoRA), a frozen-bottom model
// or full weights (with GaLore's optimizers). Keyword names are those of TrainingArguments,
// LoraConfig and BitsAndBytesConfig; tests/emit_finetune_test.cc checks each against the
// fields extracted from upstream into tests/fixtures/.
#include <map>
#include <string>

#include "emit_common.h"
#include "emit_finetune_common.h"
#include "planner/model/text.h"

namespace planner {
namespace {

bool ShardsWeights(const FinetunePlan& p) {
  return p.sharding == Sharding::kZero3 || p.sharding == Sharding::kFsdp ||
         p.sharding == Sharding::kFsdpGradOp;
}

bool IsFsdp(const FinetunePlan& p) {
  return p.sharding == Sharding::kFsdp || p.sharding == Sharding::kFsdpGradOp;
}

std::string TorchDtype(Precision precision) {
  if (precision == Precision::kFp16) return "torch.float16";
  if (precision == Precision::kFp32 || precision == Precision::kTf32) return "torch.float32";
  return "torch.bfloat16";  // bf16, and fp8 (which the Trainer path runs in bf16)
}

// The TrainingArguments(optim=...) string of the optimizer (OptimizerNames in transformers).
std::string OptimName(const FinetunePlan& p, FinetuneOptimizer o) {
  if (p.method == FinetuneMethod::kGalore) {
    if (o == FinetuneOptimizer::kAdafactor) return "galore_adafactor";
    if (o == FinetuneOptimizer::kAdamW8bit || o == FinetuneOptimizer::kPagedAdamW8bit) {
      return "galore_adamw_8bit";
    }
    return "galore_adamw";
  }
  switch (o) {
    case FinetuneOptimizer::kAdamW:
      return "adamw_torch";
    case FinetuneOptimizer::kAdamW8bit:
      return "adamw_8bit";
    case FinetuneOptimizer::kPagedAdamW8bit:
      return "paged_adamw_8bit";
    case FinetuneOptimizer::kAdafactor:
      return "adafactor";
    case FinetuneOptimizer::kSgd:
      return "sgd";
  }
  return "adamw_torch";
}

std::string QuantConfig(const FinetunePlan& p, const FinetuneSetup& s) {
  const std::string dtype = TorchDtype(s.precision);
  if (Nf4Base(p)) {
    // QLoRA (Dettmers et al. 2023): NF4 blocks, optionally double-quantized constants, matmuls
    // in the compute dtype. Under FSDP the 4-bit storage dtype must be the model's, so FSDP
    // flattens one dtype.
    std::string q =
        "    quant = BitsAndBytesConfig(\n        load_in_4bit=True,\n"
        "        bnb_4bit_quant_type=\"nf4\",\n        bnb_4bit_use_double_quant=" +
        std::string(p.double_quant ? "True" : "False") +
        ",\n        bnb_4bit_compute_dtype=" + dtype + ",\n";
    if (ShardsWeights(p)) q += "        bnb_4bit_quant_storage=" + dtype + ",\n";
    return q + "    )\n";
  }
  if (Int8Base(p) && p.method == FinetuneMethod::kFreeze) {
    // 8-bit layers cannot be trained: the trained top blocks (".i." in their names) stay whole.
    return "    layers = AutoConfig.from_pretrained(MODEL_ID).num_hidden_layers\n"
           "    top = [f\".{i}.\" for i in range(layers - TRAINED_BLOCKS, layers)]\n"
           "    quant = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=top + "
           "[\"lm_head\"])\n";
  }
  if (Int8Base(p)) return "    quant = BitsAndBytesConfig(load_in_8bit=True)\n";
  return "";
}

std::string LoadModel(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  const std::string quant = QuantConfig(p, s);
  // Full and GaLore train fp32 master weights under autocast (mixed precision); frozen bases
  // are kept in the compute dtype, and so is everything in pure bf16 (no master copy).
  const bool master_fp32 =
      s.master == MasterWeights::kFp32 &&
      (p.method == FinetuneMethod::kFull || p.method == FinetuneMethod::kGalore);
  std::string t = quant + "    return AutoModelForCausalLM.from_pretrained(\n        MODEL_ID,\n" +
                  "        dtype=" + (master_fp32 ? "torch.float32" : TorchDtype(s.precision)) +
                  ",\n";
  // Code from the model's repository picks its own attention; transformers' own takes SDPA.
  t += HfFamilyOf(m).remote_code ? "        trust_remote_code=True,\n"
                                 : "        attn_implementation=\"sdpa\",\n";
  if (!quant.empty()) {
    t += "        quantization_config=quant,\n";
    // Without FSDP or ZeRO-3 each process loads its whole quantized copy on its own GPU.
    if (!ShardsWeights(p))
      t += "        device_map={\"\": int(os.environ.get(\"LOCAL_RANK\", 0))},\n";
  }
  return t + "    )\n";
}

std::string TargetModules(const Model& m, const FinetunePlan& p) {
  const std::vector<std::string> modules = LoraTargetModules(m, p.targets);
  if (modules.size() == 1 && modules[0] == "all-linear") return "\"all-linear\"";
  return QuotedList(modules);
}

std::string Adapt(const Model& m, const FinetunePlan& p, const FinetuneSetup& s) {
  const bool pure = s.master == MasterWeights::kNone;
  if (p.method == FinetuneMethod::kFreeze) {
    // The decoder blocks are the ModuleList as long as the model is deep, whatever its family
    // calls it (model.layers, transformer.h, gpt_neox.layers).
    const std::string cast = pure ? "" : ".float()";
    return "    blocks = next(x for x in model.modules() if isinstance(x, torch.nn.ModuleList)\n"
           "                  and len(x) == model.config.num_hidden_layers)\n"
           "    model.requires_grad_(False)\n" +
           std::string(pure ? "    # Pure bf16: trained weights stay in the loaded dtype.\n"
                            : "    # Trained weights in fp32 (AdamW's master copy); the frozen "
                              "rest stays as loaded.\n") +
           "    for block in blocks[len(blocks) - TRAINED_BLOCKS:]:\n"
           "        block" +
           cast +
           ".requires_grad_(True)\n"
           "    model.get_output_embeddings()" +
           cast +
           ".requires_grad_(True)\n"
           "    return model\n";
  }
  if (!UsesAdapters(p)) return "    return model\n";
  std::string t;
  // prepare_model_for_kbit_training casts the unquantized rest to fp32, which FSDP and ZeRO-3
  // cannot flatten next to bf16 storage, and pure bf16 does not want: there the Trainer
  // prepares the model itself.
  if ((Nf4Base(p) || Int8Base(p)) && !ShardsWeights(p) && !pure) {
    t +=
        "    model = prepare_model_for_kbit_training(\n        model, use_gradient_checkpointing=" +
        std::string(p.checkpointing != Checkpointing::kNone ? "True" : "False") + ")\n";
  }
  t += "    config = LoraConfig(\n        r=" + std::to_string(p.lora_rank) +
       ",\n        lora_alpha=" + std::to_string(p.lora_alpha) +
       ",\n        target_modules=" + TargetModules(m, p) +
       ",\n        lora_dropout=0.0,  # no dropout masks, as the plan's memory counts\n"
       "        bias=\"none\",\n        task_type=\"CAUSAL_LM\",\n    )\n";
  // FSDP flattens one dtype per unit, and pure bf16 keeps no fp32 copy: there adapters stay in
  // the base's dtype instead of PEFT's fp32.
  t += std::string("    model = get_peft_model(model, config") +
       (IsFsdp(p) || pure ? ", autocast_adapter_dtype=False" : "") + ")\n";
  return t + "    model.print_trainable_parameters()\n    return model\n";
}

std::string LearningRate(const FinetunePlan& p) { return UsesAdapters(p) ? "2e-4" : "2e-5"; }

std::string TrainingArgs(const FinetunePlan& p, const FinetuneSetup& s) {
  std::string a = "        output_dir=os.environ.get(\"OUTPUT_DIR\", \"out\"),\n";
  a += "        per_device_train_batch_size=" + std::to_string(p.micro_batch) + ",\n";
  a += "        gradient_accumulation_steps=" + std::to_string(p.grad_accum) + ",\n";
  a += "        num_train_epochs=" + Printf("%g", s.epochs) + ",\n";
  a += "        learning_rate=" + LearningRate(p) + ",  # a starting point, not planned\n";
  a += "        lr_scheduler_type=\"cosine\",\n        warmup_ratio=0.03,\n";
  if (s.precision == Precision::kFp16) a += "        fp16=True,\n";
  if (s.precision == Precision::kBf16 || s.precision == Precision::kFp8)
    a += "        bf16=True,\n";
  if (s.precision == Precision::kTf32) a += "        tf32=True,\n";
  // Under FSDP, accelerate.yaml's fsdp_activation_checkpointing does it; the Trainer refuses both.
  if (p.checkpointing != Checkpointing::kNone && !IsFsdp(p)) {
    a += "        gradient_checkpointing=True,\n"
         "        gradient_checkpointing_kwargs={\"use_reentrant\": False},\n";
  }
  a += "        optim=\"" + OptimName(p, s.optimizer) + "\",\n";
  if (p.method == FinetuneMethod::kGalore) {
    // GaLore (Zhao et al. 2024) projects the 2-D weights of the modules these patterns match.
    a += "        optim_target_modules=[r\".*attn.*\", r\".*mlp.*\"],\n"
         "        optim_args=\"rank=" +
         std::to_string(p.galore_rank) + ", update_proj_gap=200, scale=0.25\",\n";
  }
  if (p.sharding == Sharding::kZero1 || p.sharding == Sharding::kZero2 ||
      p.sharding == Sharding::kZero3) {
    a += "        deepspeed=os.path.join(HERE, \"ds_config.json\"),\n";
  }
  if (p.dp > 1 && p.sharding == Sharding::kNone) a += "        ddp_find_unused_parameters=False,\n";
  a += "        logging_steps=10,\n        save_strategy=\"epoch\",\n        report_to=\"none\",\n";
  return a;
}

constexpr const char* kTrainPy = R"py(#!/usr/bin/env python3
@summary@# Written by `planner finetune`. Start it with run.sh (accelerate launch, accelerate.yaml).
@needs@@notes@import os
import sys

import torch
from datasets import load_dataset
from transformers import (AutoConfig, AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig,
                          DataCollatorForLanguageModeling, Trainer, TrainingArguments)
@peft_import@
HERE = os.path.dirname(os.path.abspath(__file__))
# PLACEHOLDER (model): @model_hint@
MODEL_ID = os.environ.get("MODEL_ID", "@model_id@")
SEQ_LEN = @seq_len@
TRAINED_BLOCKS = @trained_blocks@  # freeze: decoder blocks trained, counted from the top


def load_model():
@load_model@

def adapt(model):
@adapt@

def load_data(tokenizer):
    # PLACEHOLDER (data): a JSON-lines file with one "text" field per example. Use yours.
    path = os.environ.get("DATASET", "")
    if not path:
        sys.exit("train.py: set DATASET to a JSON-lines file with a 'text' field")
    raw = load_dataset("json", data_files=path, split="train")
    data = raw.map(lambda b: tokenizer(b["text"]@truncate@), batched=True,
                   remove_columns=raw.column_names)
@pack@    return data


def main():
    if not MODEL_ID:
        sys.exit("train.py: set MODEL_ID to the Hugging Face id of @model_name@")
    tokenizer = AutoTokenizer.from_pretrained(MODEL_ID@remote@)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Arguments first: with ZeRO-3 they make from_pretrained load straight into shards.
    args = TrainingArguments(
@training_args@    )
    model = adapt(load_model())
    trainer = Trainer(model=model, args=args, train_dataset=load_data(tokenizer),
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    trainer.train()
    trainer.save_model()


if __name__ == "__main__":
    main()
)py";

// Sequences concatenated and cut into SEQ_LEN-token rows: no padding tokens, as planned.
constexpr const char* kPack = R"py(    def pack(batch):
        ids = [t for row in batch["input_ids"] for t in row]
        rows = [ids[i:i + SEQ_LEN] for i in range(0, len(ids) // SEQ_LEN * SEQ_LEN, SEQ_LEN)]
        return {"input_ids": rows, "attention_mask": [[1] * SEQ_LEN for _ in rows]}
    data = data.map(pack, batched=True, remove_columns=data.column_names)
)py";

std::string Needs(const FinetunePlan& p, const FinetuneSetup& s) {
  std::string n = "torch, transformers >= 4.56 (the dtype= keyword), accelerate, datasets";
  if (UsesAdapters(p)) n += ", peft";
  if (Nf4Base(p) || Int8Base(p) || s.optimizer == FinetuneOptimizer::kAdamW8bit ||
      s.optimizer == FinetuneOptimizer::kPagedAdamW8bit) {
    n += ", bitsandbytes";
  }
  if (p.method == FinetuneMethod::kGalore) n += ", galore-torch";
  if (p.sharding == Sharding::kZero1 || p.sharding == Sharding::kZero2 ||
      p.sharding == Sharding::kZero3) {
    n += ", deepspeed";
  }
  return n;
}

}  // namespace

std::string HfTrainScript(const Model& m, const Cluster& c, const FinetunePlan& p,
                          const FinetuneSetup& s, const std::vector<std::string>& notes) {
  std::string note_text;
  for (const std::string& n : notes) note_text += WrappedComment("NOTE: " + n);
  const std::string hint =
      s.hf_model_id.empty()
          ? "no Hugging Face id was given for " + m.name + ": set MODEL_ID (e.g. owner/name)."
          : "the Hugging Face id given to the planner; MODEL_ID overrides it.";
  return Fill(kTrainPy,
              {{"summary", WrappedComment("Fine-tuning plan: " + FinetuneSummary(m, c, p) + ".")},
               {"needs", WrappedComment("Needs: " + Needs(p, s) + ".")},
               {"notes", note_text},
               {"peft_import", UsesAdapters(p) ? "from peft import LoraConfig, get_peft_model, "
                                                 "prepare_model_for_kbit_training\n"
                                               : ""},
               {"model_hint", hint},
               {"model_id", s.hf_model_id},
               {"model_name", m.name},
               {"seq_len", std::to_string(s.seq_len)},
               {"trained_blocks", std::to_string(p.trainable_layers)},
               {"load_model", LoadModel(m, p, s)},
               {"remote", HfFamilyOf(m).remote_code ? ", trust_remote_code=True" : ""},
               {"adapt", Adapt(m, p, s)},
               {"truncate", p.packing ? "" : ", truncation=True, max_length=SEQ_LEN"},
               {"pack", p.packing ? kPack : ""},
               {"training_args", TrainingArgs(p, s)}});
}

}  // namespace planner
