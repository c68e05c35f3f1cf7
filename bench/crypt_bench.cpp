// Block encodings (MS-PST 5.1 permutative, 5.2 cyclic) and the block CRC
// (5.3), each version this CPU has, on one 8 KiB block (a Unicode PST's
// largest): bytes per second of what every block read goes through.
//   build/pstkit_bench --benchmark_filter=Crypt
#include <benchmark/benchmark.h>

#include <random>

#include "ndb/byte_substitution.h"
#include "pstkit/bytes.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {
namespace {

Bytes random_block() {
  std::mt19937 rng(5);
  Bytes block(8176);
  for (auto& b : block) b = uint8_t(rng());
  return block;
}

void register_all() {
  for (const ByteSubstitution& kernel : byte_substitutions()) {
    benchmark::RegisterBenchmark((std::string("Crypt/permute/") + kernel.name).c_str(), [kernel](benchmark::State& state) {
      Bytes block = random_block(), table(256);
      for (size_t i = 0; i < 256; ++i) table[i] = uint8_t(255 - i);
      for (auto _ : state) {
        kernel.run(table.data(), block.data(), block.size());
        benchmark::DoNotOptimize(block.data());
      }
      state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(block.size()));
    });
  }
  for (const CyclicCoding& kernel : cyclic_codings()) {
    benchmark::RegisterBenchmark((std::string("Crypt/cyclic/") + kernel.name).c_str(), [kernel](benchmark::State& state) {
      Bytes block = random_block();
      uint32_t key = 0x12345;
      for (auto _ : state) {
        kernel.run(block.data(), block.size(), key++);
        benchmark::DoNotOptimize(block.data());
      }
      state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(block.size()));
    });
  }
  benchmark::RegisterBenchmark("Crypt/crc", [](benchmark::State& state) {
    const Bytes block = random_block();
    uint32_t crc = 0;
    for (auto _ : state) benchmark::DoNotOptimize(crc = compute_crc(block.data(), block.size(), crc));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(block.size()));
  });
}

const bool registered = (register_all(), true);

}  // namespace
}  // namespace pstkit::ndb
