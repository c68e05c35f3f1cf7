#include "cli/sha256.h"

#include <nettle/sha2.h>

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define PSTKIT_SHA_NI 1
#endif

namespace pstkit::cli {
namespace {

constexpr uint32_t kInitialState[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

void nettle_digest(ByteView data, Sha256Digest* digest) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, data.size(), data.data());
  sha256_digest(&ctx, digest->size(), digest->data());
}

#ifdef PSTKIT_SHA_NI

// FIPS 180-4 4.2.2: the round constants.
alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define PSTKIT_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// The eight state words as SHA256RNDS2 wants them: ABEF and CDGH.
struct ShaState {
  __m128i abef, cdgh;
};

PSTKIT_SHA_TARGET ShaState load_state(const uint32_t* h) {
  const __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4)), 0x1B);
  return {_mm_alignr_epi8(dcba, efgh, 8), _mm_blend_epi16(efgh, dcba, 0xF0)};
}

PSTKIT_SHA_TARGET void store_state(const ShaState& s, uint32_t* h) {
  const __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

PSTKIT_SHA_TARGET inline __m128i load_words(const uint8_t* p) {
  const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), big_endian);
}

// Sixteen groups of four rounds; W holds the schedule's last sixteen words.
#define PSTKIT_SHA_ROUNDS(S, W, i)                                                                      \
  do {                                                                                                 \
    __m128i m = _mm_add_epi32(W[(i) & 3], _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * (i)))); \
    S.cdgh = _mm_sha256rnds2_epu32(S.cdgh, S.abef, m);                                                 \
    S.abef = _mm_sha256rnds2_epu32(S.abef, S.cdgh, _mm_shuffle_epi32(m, 0x0E));                        \
    if ((i) < 12) {                                                                                    \
      const __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(W[(i) & 3], W[((i) + 1) & 3]),              \
                                      _mm_alignr_epi8(W[((i) + 3) & 3], W[((i) + 2) & 3], 4));         \
      W[(i) & 3] = _mm_sha256msg2_epu32(t, W[((i) + 3) & 3]);                                          \
    }                                                                                                  \
  } while (0)

// FIPS 180-4 6.2.2 on `blocks` 64-byte blocks of p.
PSTKIT_SHA_TARGET void compress_one(uint32_t* h, const uint8_t* p, size_t blocks) {
  ShaState s = load_state(h);
  for (; blocks > 0; --blocks, p += 64) {
    const ShaState before = s;
    __m128i w[4];
    for (int i = 0; i < 4; ++i) w[i] = load_words(p + 16 * i);
    for (int i = 0; i < 16; ++i) PSTKIT_SHA_ROUNDS(s, w, i);
    s.abef = _mm_add_epi32(s.abef, before.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, before.cdgh);
  }
  store_state(s, h);
}

// The same on two streams at once, their instructions interleaved.
PSTKIT_SHA_TARGET void compress_two(uint32_t* h, const uint8_t* p, uint32_t* g, const uint8_t* q, size_t blocks) {
  ShaState s = load_state(h), r = load_state(g);
  for (; blocks > 0; --blocks, p += 64, q += 64) {
    const ShaState s_before = s, r_before = r;
    __m128i w[4], v[4];
    for (int i = 0; i < 4; ++i) {
      w[i] = load_words(p + 16 * i);
      v[i] = load_words(q + 16 * i);
    }
    for (int i = 0; i < 16; ++i) {
      PSTKIT_SHA_ROUNDS(s, w, i);
      PSTKIT_SHA_ROUNDS(r, v, i);
    }
    s.abef = _mm_add_epi32(s.abef, s_before.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, s_before.cdgh);
    r.abef = _mm_add_epi32(r.abef, r_before.abef);
    r.cdgh = _mm_add_epi32(r.cdgh, r_before.cdgh);
  }
  store_state(s, h);
  store_state(r, g);
}
#undef PSTKIT_SHA_ROUNDS

// FIPS 180-4 5.1.1: the last partial block, 0x80, zeros and the length in
// bits, in one or two blocks; then the state as the digest (big-endian).
void finish(uint32_t* h, ByteView data, size_t done, Sha256Digest* digest) {
  uint8_t tail[128] = {};
  const size_t rest = data.size() - done;
  if (rest > 0) std::memcpy(tail, data.data() + done, rest);
  tail[rest] = 0x80;
  const size_t blocks = rest + 9 <= 64 ? 1 : 2;
  const uint64_t bits = uint64_t(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[64 * blocks - 1 - i] = uint8_t(bits >> (8 * i));
  compress_one(h, tail, blocks);
  for (int i = 0; i < 8; ++i) {
    (*digest)[4 * i] = uint8_t(h[i] >> 24);
    (*digest)[4 * i + 1] = uint8_t(h[i] >> 16);
    (*digest)[4 * i + 2] = uint8_t(h[i] >> 8);
    (*digest)[4 * i + 3] = uint8_t(h[i]);
  }
}

bool has_sha_ni() {
  // CPUID directly: clang's __builtin_cpu_supports has no "sha".
  static const bool yes = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool sse41 = c & (1u << 19), ssse3 = c & (1u << 9);
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return sse41 && ssse3 && (b & (1u << 29)) != 0;  // leaf 7 EBX bit 29: SHA extensions
  }();
  return yes;
}

#else
bool has_sha_ni() { return false; }
#endif

}  // namespace

bool sha256_two_uses_sha_ni() { return has_sha_ni(); }

void sha256_two(ByteView a, ByteView b, Sha256Digest* digest_a, Sha256Digest* digest_b) {
#ifdef PSTKIT_SHA_NI
  if (has_sha_ni()) {
    uint32_t ha[8], hb[8];
    std::memcpy(ha, kInitialState, sizeof ha);
    std::memcpy(hb, kInitialState, sizeof hb);
    // The full blocks both have, together; the rest of each alone.
    const size_t blocks_a = a.size() / 64, blocks_b = b.size() / 64;
    const size_t both = std::min(blocks_a, blocks_b);
    compress_two(ha, a.data(), hb, b.data(), both);
    compress_one(ha, a.data() + 64 * both, blocks_a - both);
    compress_one(hb, b.data() + 64 * both, blocks_b - both);
    finish(ha, a, 64 * blocks_a, digest_a);
    finish(hb, b, 64 * blocks_b, digest_b);
    return;
  }
#endif
  nettle_digest(a, digest_a);
  nettle_digest(b, digest_b);
}

std::string sha256_digest_hex(const Sha256Digest& digest) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace pstkit::cli
