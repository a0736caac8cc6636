// GPUs, links and the cluster they form.
#pragma once

#include <string>

#include "planner/model/calibration.h"

namespace planner {

enum class Precision { kFp32, kTf32, kBf16, kFp16, kFp8 };

/// A GPU's architecture; it picks the built-in calibration (cost_models/calibration.cc).
/// kUnstated: a catalog entry without "arch", calibrated like any non-Hopper/Blackwell GPU.
enum class Arch {
  kUnstated,
  kVolta,
  kAmpere,
  kAda,
  kHopper,
  kBlackwell,
  kCdna3,
  kCdna2,  ///< MI250X
  kCdna4,  ///< MI355X
  kGaudi3  ///< Intel Gaudi 3 (not a GPU; a matrix-engine accelerator with HBM)
};

/// Every stated architecture, in the order error messages list them.
inline constexpr Arch kArchs[] = {Arch::kVolta,     Arch::kAmpere, Arch::kAda,
                                  Arch::kHopper,    Arch::kBlackwell, Arch::kCdna3,
                                  Arch::kCdna2,     Arch::kCdna4,  Arch::kGaudi3};

/// One GPU model. Peaks are dense (no sparsity), 16-bit with fp32 accumulate.
struct Gpu {
  std::string name{};
  std::string aliases{};           ///< comma-separated short names users type ("4090")
  double hbm_bytes = 0;          ///< memory on the card
  double reserved_bytes = 0;     ///< taken by the CUDA/ROCm context and never usable
  double fp32_flops = 0;         ///< FLOP/s, non-tensor
  double tf32_flops = 0;
  double bf16_flops = 0;         ///< = fp16 with fp32 accumulate
  double fp8_flops = 0;          ///< 0 when the GPU has no fp8
  /// The best 16-bit torch.matmul rate a public benchmark measured on this card (FLOP/s); 0: not
  /// measured. Borrowed constants are scaled by it against the donor's (cost/calibration.cc).
  double matmul_flops = 0;
  double hbm_bytes_per_s = 0;
  std::string intra_link{};        ///< default link between GPUs of one node
  std::string inter_link{};        ///< default NIC type between nodes
  Arch arch = Arch::kUnstated;
  /// GPUs of one node reach each other's memory directly (NVLink, or PCIe peer-to-peer). False:
  /// collectives inside a node are staged through host memory (NCCL's SHM transport).
  bool p2p = true;
  /// Bytes/s one way between the GPU and host memory when every GPU copies at once; 0: the
  /// PCIe link of its generation (HostLinkBytesPerS). GB200: NVLink-C2C.
  double host_link_bytes_per_s = 0;
  /// Host (CPU) memory per GPU in the GPU's usual server, bytes; 0: unstated (the rule of
  /// Cluster::HostBytesPerNode). GB200: one Grace's 480 GB LPDDR5X for two GPUs.
  double host_bytes = 0;
  int64_t scale_up_gpus = 0;       ///< GPUs its NVLink domain joins by default (NVL72: 72);
                                   ///< 0: one node
  std::string source{};            ///< datasheet

  double usable_bytes() const { return hbm_bytes - reserved_bytes; }
  double PeakFlops(Precision p) const;
  bool operator==(const Gpu&) const = default;
};

/// A link type. One-way is what one GPU can send while it also receives at the same rate.
struct Link {
  std::string name{};
  double one_way_bytes_per_s = 0;
  double two_way_bytes_per_s = 0;
  double latency_s = 0;
  std::string source{};
  bool operator==(const Link&) const = default;
};

/// GPUs of one type, `gpus_per_node` to a node joined by `intra`, nodes joined by
/// `nics_per_node` NICs of type `inter`. The `intra` link may reach beyond a node: a scale-up
/// domain (GB200 NVL72: 72 GPUs over NVLink 5 in 18 nodes of 4) joins `scale_up_gpus` GPUs.
struct Cluster {
  Gpu gpu{};
  int64_t gpus = 0;
  int64_t gpus_per_node = 8;
  Link intra{};
  Link inter{};
  int64_t nics_per_node = 8;
  int64_t scale_up_gpus = 0;  ///< GPUs joined by `intra`; 0 means gpus_per_node
  /// The efficiency constants and their provenance, chosen when the specs are built; kNone
  /// (a cluster made by hand): the cost models use the GPU architecture's built-in set.
  Calibration calibration{};
  /// Host memory per node, bytes (--host-memory); 0: HostBytesPerNode's default.
  double host_bytes_per_node = 0;

  /// Host memory a node offers offloaded state: host_bytes_per_node, else the GPU's stated
  /// host memory per GPU x GPUs per node, else 1 TiB for a node of eight 80 GB+ GPUs (DGX
  /// H100: 2 TB) and 4x the node's GPU memory otherwise.
  double HostBytesPerNode() const;

  /// GPUs one `intra` link joins: scale_up_gpus, else gpus_per_node.
  int64_t ScaleUpDomain() const { return scale_up_gpus > 0 ? scale_up_gpus : gpus_per_node; }

  /// Inter-node bandwidth one GPU gets when every GPU of its node sends at once, bytes/s.
  double inter_bytes_per_s_per_gpu() const;
  bool operator==(const Cluster&) const = default;
};

const char* PrecisionName(Precision p);

/// Bytes of one activation value as it is stored and moved between GPUs: 4 in fp32 and tf32
/// (tf32 is a matmul mode over fp32 tensors), else 2: with fp8 matmuls, activations still travel
/// and are kept in 16 bits (Transformer Engine casts each matmul's input on the fly).
double BytesPerActivation(Precision p);

/// The catalog's spelling: "volta", "ampere", "ada", "hopper", "blackwell", "cdna3"; "" for
/// kUnstated, as the catalog's optional "arch" key reads when absent.
const char* ArchName(Arch a);

}  // namespace planner
