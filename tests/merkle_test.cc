// The RFC 6962 tree: published test vectors, and a deliberately simple
// independent implementation (recursion straight from RFC 6962 section 2.1,
// its own SHA-256 calls) compared with the library for every size to 64.
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "ledger/merkle.h"

using namespace ocop::ledger::merkle;

namespace {

// ---- the independent implementation -------------------------------------

using Bytes = std::string;

Bytes H(const Bytes& data) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return Bytes(reinterpret_cast<char*>(out), len);
}

size_t K(size_t n) {  // largest power of two smaller than n
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Bytes MTH(const std::vector<Bytes>& d, size_t lo, size_t hi) {
  size_t n = hi - lo;
  if (n == 0) return H("");
  if (n == 1) return H(Bytes(1, '\0') + d[lo]);
  size_t k = K(n);
  // Appended, not `+`: GCC 12 warns falsely (-Wrestrict) on a temporary's operator+.
  Bytes node(1, '\1');
  node.append(MTH(d, lo, lo + k)).append(MTH(d, lo + k, hi));
  return H(node);
}

std::vector<Bytes> PATH(size_t m, const std::vector<Bytes>& d, size_t lo, size_t hi) {
  size_t n = hi - lo;
  if (n == 1) return {};
  size_t k = K(n);
  std::vector<Bytes> p;
  if (m < k) {
    p = PATH(m, d, lo, lo + k);
    p.push_back(MTH(d, lo + k, hi));
  } else {
    p = PATH(m - k, d, lo + k, hi);
    p.push_back(MTH(d, lo, lo + k));
  }
  return p;
}

std::vector<Bytes> SUBPROOF(size_t m, const std::vector<Bytes>& d, size_t lo, size_t hi, bool b) {
  size_t n = hi - lo;
  if (m == n) return b ? std::vector<Bytes>{} : std::vector<Bytes>{MTH(d, lo, hi)};
  size_t k = K(n);
  std::vector<Bytes> p;
  if (m <= k) {
    p = SUBPROOF(m, d, lo, lo + k, b);
    p.push_back(MTH(d, lo + k, hi));
  } else {
    p = SUBPROOF(m - k, d, lo + k, hi, false);
    p.push_back(MTH(d, lo, lo + k));
  }
  return p;
}

// ---- the library over an in-memory store ---------------------------------

class MemoryNodes : public NodeReader {
 public:
  explicit MemoryNodes(const std::vector<Bytes>& leaves) {
    for (const auto& l : leaves) {
      frontier_.Append(LeafHash(l), [&](int level, uint64_t index, const Hash& h) {
        nodes_[{level, index}] = h;
      });
    }
  }
  ocop::Status Node(int level, uint64_t index, Hash* out) override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return ocop::Status::NotFound("no node");
    *out = it->second;
    return ocop::Status::OK();
  }
  const Frontier& frontier() const { return frontier_; }

 private:
  std::map<std::pair<int, uint64_t>, Hash> nodes_;
  Frontier frontier_;
};

Hash FromHexOrDie(const std::string& hex) {
  Hash h;
  REQUIRE(FromHex(hex, &h));
  return h;
}

Bytes Unhex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

Bytes Raw(const Hash& h) { return Bytes(reinterpret_cast<const char*>(h.data()), h.size()); }

std::vector<Hash> Hashes(const std::vector<std::string>& hex) {
  std::vector<Hash> v;
  for (const auto& h : hex) v.push_back(FromHexOrDie(h));
  return v;
}

// The leaves and roots published with Certificate Transparency's reference
// implementation (and transparency-dev/merkle's testonly data).
const std::vector<Bytes> kLeaves = {Unhex(""),
                                    Unhex("00"),
                                    Unhex("10"),
                                    Unhex("2021"),
                                    Unhex("3031"),
                                    Unhex("40414243"),
                                    Unhex("5051525354555657"),
                                    Unhex("606162636465666768696a6b6c6d6e6f")};
const std::vector<std::string> kRoots = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

}  // namespace

TEST_CASE("roots match the published RFC 6962 vectors") {
  CHECK(ToHex(EmptyRoot()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (size_t n = 1; n <= kLeaves.size(); ++n) {
    std::vector<Bytes> prefix(kLeaves.begin(), kLeaves.begin() + static_cast<long>(n));
    MemoryNodes nodes(prefix);
    Hash root;
    REQUIRE(RootAt(nodes, n, &root).ok());
    CHECK(ToHex(root) == kRoots[n - 1]);
    CHECK(ToHex(nodes.frontier().Root()) == kRoots[n - 1]);
  }
}

TEST_CASE("inclusion proofs match the published vectors and verify") {
  MemoryNodes nodes(kLeaves);
  struct Case {
    uint64_t index, size;
    std::vector<std::string> path;
  };
  const std::vector<Case> cases = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const auto& c : cases) {
    INFO("index " << c.index << " size " << c.size);
    std::vector<Hash> path;
    REQUIRE(InclusionPath(nodes, c.index, c.size, &path).ok());
    CHECK(path == Hashes(c.path));
    Hash root = FromHexOrDie(kRoots[c.size - 1]);
    Hash leaf = LeafHash(kLeaves[c.index]);
    CHECK(VerifyInclusion(leaf, c.index, c.size, path, root));
    // Mutations are all rejected.
    CHECK_FALSE(VerifyInclusion(leaf, c.index + 1, c.size, path, root));
    // The path alone does not bind the size (leaf 1's path in trees of 5 and
    // 6 has one shape); the root of the claimed size does.
    if (c.size < kRoots.size()) {
      CHECK_FALSE(VerifyInclusion(leaf, c.index, c.size + 1, path, FromHexOrDie(kRoots[c.size])));
    }
    CHECK_FALSE(VerifyInclusion(LeafHash("x"), c.index, c.size, path, root));
    if (!path.empty()) {
      auto flipped = path;
      flipped[0][7] ^= 1;
      CHECK_FALSE(VerifyInclusion(leaf, c.index, c.size, flipped, root));
      auto shorter = path;
      shorter.pop_back();
      CHECK_FALSE(VerifyInclusion(leaf, c.index, c.size, shorter, root));
    }
    auto longer = path;
    longer.push_back(root);
    CHECK_FALSE(VerifyInclusion(leaf, c.index, c.size, longer, root));
  }
}

TEST_CASE("consistency proofs match the published vectors and verify") {
  MemoryNodes nodes(kLeaves);
  struct Case {
    uint64_t m, n;
    std::vector<std::string> path;
  };
  const std::vector<Case> cases = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const auto& c : cases) {
    INFO("from " << c.m << " to " << c.n);
    std::vector<Hash> path;
    REQUIRE(ConsistencyPath(nodes, c.m, c.n, &path).ok());
    CHECK(path == Hashes(c.path));
    Hash a = FromHexOrDie(kRoots[c.m - 1]), b = FromHexOrDie(kRoots[c.n - 1]);
    CHECK(VerifyConsistency(c.m, c.n, a, b, path));
    if (c.m != c.n) {
      CHECK_FALSE(VerifyConsistency(c.m, c.n, b, a, path));
      auto flipped = path;
      flipped.back()[0] ^= 0x80;
      CHECK_FALSE(VerifyConsistency(c.m, c.n, a, b, flipped));
    }
  }
  std::vector<Hash> path;
  CHECK_FALSE(ConsistencyPath(nodes, 0, 3, &path).ok());
  CHECK_FALSE(ConsistencyPath(nodes, 4, 3, &path).ok());
}

TEST_CASE("the library agrees with the simple implementation for every size to 64") {
  std::vector<Bytes> leaves;
  for (int i = 0; i < 64; ++i)
    leaves.push_back(Bytes{static_cast<char>(i), static_cast<char>(i * 7), 'x'});
  MemoryNodes nodes(leaves);
  for (size_t n = 1; n <= 64; ++n) {
    Bytes want = MTH(leaves, 0, n);
    Hash root;
    REQUIRE(RootAt(nodes, n, &root).ok());
    REQUIRE(Raw(root) == want);
    for (size_t i = 0; i < n; ++i) {
      std::vector<Hash> path;
      REQUIRE(InclusionPath(nodes, i, n, &path).ok());
      auto simple = PATH(i, leaves, 0, n);
      REQUIRE(path.size() == simple.size());
      for (size_t j = 0; j < path.size(); ++j) REQUIRE(Raw(path[j]) == simple[j]);
      REQUIRE(VerifyInclusion(LeafHash(leaves[i]), i, n, path, root));
    }
    for (size_t m = 1; m <= n; ++m) {
      std::vector<Hash> path;
      REQUIRE(ConsistencyPath(nodes, m, n, &path).ok());
      auto simple = m == n ? std::vector<Bytes>{} : SUBPROOF(m, leaves, 0, n, true);
      REQUIRE(path.size() == simple.size());
      for (size_t j = 0; j < path.size(); ++j) REQUIRE(Raw(path[j]) == simple[j]);
      Hash old_root;
      REQUIRE(RootAt(nodes, m, &old_root).ok());
      REQUIRE(VerifyConsistency(m, n, old_root, root, path));
      if (!path.empty()) {
        auto bad = path;
        bad[bad.size() / 2][3] ^= 4;
        REQUIRE_FALSE(VerifyConsistency(m, n, old_root, root, bad));
      }
    }
  }
}
