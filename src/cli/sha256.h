// SHA-256 of two buffers at once, for the manifest's digest of every file an
// export writes. With SHA-NI the two streams are interleaved: one stream
// keeps the SHA units waiting on each round's result, two keep them busy
// (2.33 against 1.63 GB/s on an AMD EPYC, docs/BENCHMARKS.md). Without
// SHA-NI, nettle hashes one after the other.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "pstkit/bytes.h"

namespace pstkit::cli {

using Sha256Digest = std::array<uint8_t, 32>;

// The SHA-256 digests of a and of b.
void sha256_two(ByteView a, ByteView b, Sha256Digest* digest_a, Sha256Digest* digest_b);
std::string sha256_digest_hex(const Sha256Digest& digest);
// Whether sha256_two interleaves with SHA-NI on this CPU.
bool sha256_two_uses_sha_ni();

}  // namespace pstkit::cli
