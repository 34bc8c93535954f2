#include "ledger/merkle.h"

// SHA-256 through OpenSSL's low-level calls, not EVP. A leaf (~350 bytes)
// and a node (65) are hashed for about every event appended, and EVP's
// dispatch through its provider cost ~120 ns more a leaf and ~40 ns more a
// node here (min of 15 rounds of 200,000: 451 against 329 ns, 210 against
// 170 ns), some 5% of a 1000-event batch's CPU (BENCHMARKS.md, issue 18,
// sixth session). OpenSSL 3 marks these calls deprecated, not removed; they
// compute the same digests, which golden_test and the Go sumdb checks pin.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <bit>
#include <cstring>
#include <stdexcept>

namespace ocop::ledger::merkle {
namespace {

Hash DigestOf(const void* prefix, size_t prefix_len, const void* a, size_t a_len, const void* b,
              size_t b_len) {
  Hash out;
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || (prefix_len && SHA256_Update(&ctx, prefix, prefix_len) != 1) ||
      (a_len && SHA256_Update(&ctx, a, a_len) != 1) ||
      (b_len && SHA256_Update(&ctx, b, b_len) != 1) || SHA256_Final(out.data(), &ctx) != 1) {
    // Only possible if OpenSSL itself is broken; nothing can be hashed.
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return out;
}

// Largest power of two strictly smaller than n, for n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

Status Subproof(NodeReader& nodes, uint64_t offset, uint64_t m, uint64_t n, bool complete,
                std::vector<Hash>* path) {
  if (m == n) {
    if (complete) return Status::OK();
    Hash h;
    Status s = RangeHash(nodes, offset, offset + n, &h);
    if (s.ok()) path->push_back(h);
    return s;
  }
  uint64_t k = SplitPoint(n);
  Hash h;
  if (m <= k) {
    Status s = Subproof(nodes, offset, m, k, complete, path);
    if (s.ok()) s = RangeHash(nodes, offset + k, offset + n, &h);
    if (s.ok()) path->push_back(h);
    return s;
  }
  Status s = Subproof(nodes, offset + k, m - k, n - k, false, path);
  if (s.ok()) s = RangeHash(nodes, offset, offset + k, &h);
  if (s.ok()) path->push_back(h);
  return s;
}

}  // namespace

Hash Sha256(std::string_view data) {
  return DigestOf(nullptr, 0, data.data(), data.size(), nullptr, 0);
}

Hash LeafHash(std::string_view leaf_bytes) {
  static const uint8_t kLeafPrefix = 0x00;
  return DigestOf(&kLeafPrefix, 1, leaf_bytes.data(), leaf_bytes.size(), nullptr, 0);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  static const uint8_t kNodePrefix = 0x01;
  return DigestOf(&kNodePrefix, 1, left.data(), left.size(), right.data(), right.size());
}

Hash EmptyRoot() { return Sha256({}); }

std::string ToHex(const Hash& h) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(64, '0');
  for (size_t i = 0; i < h.size(); ++i) {
    s[2 * i] = kDigits[h[i] >> 4];
    s[2 * i + 1] = kDigits[h[i] & 15];
  }
  return s;
}

bool FromHex(std::string_view hex, Hash* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

Status RangeHash(NodeReader& nodes, uint64_t begin, uint64_t end, Hash* out) {
  if (begin >= end) return Status::InvalidArgument("empty leaf range");
  // Greedy decomposition into complete subtrees, largest first; because begin
  // is aligned to the range's own power of two this is the RFC's recursion.
  std::vector<Hash> parts;
  uint64_t pos = begin;
  while (pos < end) {
    int level = pos == 0 ? 63 : std::countr_zero(pos);
    while (level > 0 && (uint64_t{1} << level) > end - pos) --level;
    Hash h;
    Status s = nodes.Node(level, pos >> level, &h);
    if (!s.ok()) return s;
    parts.push_back(h);
    pos += uint64_t{1} << level;
  }
  Hash r = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) r = NodeHash(parts[i], r);
  *out = r;
  return Status::OK();
}

Status RootAt(NodeReader& nodes, uint64_t size, Hash* out) {
  if (size == 0) {
    *out = EmptyRoot();
    return Status::OK();
  }
  return RangeHash(nodes, 0, size, out);
}

Status InclusionPath(NodeReader& nodes, uint64_t index, uint64_t size, std::vector<Hash>* path) {
  if (index >= size) {
    return Status::InvalidArgument("leaf index " + std::to_string(index) +
                                   " is not in a tree of size " + std::to_string(size));
  }
  // Walk down from the root, remembering siblings; the RFC lists them from
  // the leaf up, so reverse at the end.
  std::vector<Hash> rev;
  uint64_t offset = 0, n = size, m = index;
  while (n > 1) {
    uint64_t k = SplitPoint(n);
    Hash h;
    Status s;
    if (m < k) {
      s = RangeHash(nodes, offset + k, offset + n, &h);
      n = k;
    } else {
      s = RangeHash(nodes, offset, offset + k, &h);
      offset += k;
      m -= k;
      n -= k;
    }
    if (!s.ok()) return s;
    rev.push_back(h);
  }
  path->assign(rev.rbegin(), rev.rend());
  return Status::OK();
}

Status ConsistencyPath(NodeReader& nodes, uint64_t m, uint64_t n, std::vector<Hash>* path) {
  if (m == 0 || m > n) {
    return Status::InvalidArgument("a consistency proof needs 0 < from <= to; got from " +
                                   std::to_string(m) + ", to " + std::to_string(n));
  }
  path->clear();
  if (m == n) return Status::OK();
  return Subproof(nodes, 0, m, n, true, path);
}

bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Hash>& path, const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                       const std::vector<Hash>& path) {
  if (m == 0 || m > n) return false;
  if (m == n) return path.empty() && root_m == root_n;
  if (path.empty()) return false;
  std::vector<Hash> p;
  if (std::has_single_bit(m)) p.push_back(root_m);
  p.insert(p.end(), path.begin(), path.end());
  uint64_t fn = m - 1, sn = n - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = p[0], sr = p[0];
  for (size_t i = 1; i < p.size(); ++i) {
    const Hash& c = p[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == root_m && sr == root_n && sn == 0;
}

Status Frontier::Load(NodeReader& nodes, uint64_t size, Frontier* out) {
  Frontier f;
  f.size_ = size;
  uint64_t pos = 0;
  for (int level = 63; level >= 0; --level) {
    if (!(size >> level & 1)) continue;
    Hash h;
    Status s = nodes.Node(level, pos >> level, &h);
    if (!s.ok()) return s;
    f.nodes_.push_back(h);
    pos += uint64_t{1} << level;
  }
  *out = std::move(f);
  return Status::OK();
}

void Frontier::Append(const Hash& leaf_hash, const NodeSink& sink) {
  uint64_t new_size = size_ + 1;
  if (sink) sink(0, size_, leaf_hash);
  Hash h = leaf_hash;
  int level = 0;
  // Each set low bit of the old size is a subtree the new leaf completes.
  while (size_ >> level & 1) {
    h = NodeHash(nodes_.back(), h);
    nodes_.pop_back();
    ++level;
    if (sink) sink(level, (new_size >> level) - 1, h);
  }
  nodes_.push_back(h);
  size_ = new_size;
}

Hash Frontier::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  Hash r = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) r = NodeHash(nodes_[i], r);
  return r;
}

}  // namespace ocop::ledger::merkle
