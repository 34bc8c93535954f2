// Consistency proofs (RFC 6962 section 2.1.2) checked against a deliberately
// simple, independent implementation written here: its own SHA-256 (OpenSSL's
// one-shot EVP_Digest, not ledger/merkle.h), MTH and SUBPROOF transcribed from
// the RFC's recursive definitions over the list of leaves, nothing cached.
//
//  * every pair 1 <= m <= n <= 64 over an in-memory tree built with
//    merkle::Frontier's sink: ConsistencyPath(m, n) is the RFC's PROOF(m, D[n]),
//    VerifyConsistency accepts it, and rejects every single-bit change of every
//    element, the path without its last element, with an extra element, and
//    the wrong roots;
//  * a ledger of 200 events: Ledger::Consistency for random (m, n) equals the
//    reference over the stored events' own bytes, and verifies against the
//    ledger's signed tree heads.
#include <openssl/evp.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/signer.h"

namespace fs = std::filesystem;
using ocop::Status;
using ocop::ledger::merkle::Hash;
namespace merkle = ocop::ledger::merkle;

namespace {

// ---------------------------------------------------------------- reference

Hash RefSha256(const std::string& bytes) {
  Hash out{};
  unsigned int len = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr) == 1);
  REQUIRE(len == 32);
  return out;
}

std::string Bytes(const Hash& h) { return std::string(h.begin(), h.end()); }

Hash RefLeaf(const std::string& leaf) { return RefSha256(std::string(1, '\0') + leaf); }
Hash RefNode(const Hash& l, const Hash& r) {
  return RefSha256(std::string(1, '\1') + Bytes(l) + Bytes(r));
}

// The largest power of two smaller than n (n > 1), by counting up.
uint64_t RefSplit(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[lo:hi]) over leaf hashes, straight from the RFC's definition.
Hash RefMth(const std::vector<Hash>& leaves, uint64_t lo, uint64_t hi) {
  if (hi - lo == 1) return leaves[lo];
  uint64_t k = RefSplit(hi - lo);
  return RefNode(RefMth(leaves, lo, lo + k), RefMth(leaves, lo + k, hi));
}

// SUBPROOF(m, D[lo:hi], b).
void RefSubproof(const std::vector<Hash>& leaves, uint64_t m, uint64_t lo, uint64_t hi, bool b,
                 std::vector<Hash>* out) {
  uint64_t n = hi - lo;
  if (m == n) {
    if (!b) out->push_back(RefMth(leaves, lo, hi));
    return;
  }
  uint64_t k = RefSplit(n);
  if (m <= k) {
    RefSubproof(leaves, m, lo, lo + k, b, out);
    out->push_back(RefMth(leaves, lo + k, hi));
  } else {
    RefSubproof(leaves, m - k, lo + k, hi, false, out);
    out->push_back(RefMth(leaves, lo, lo + k));
  }
}

// PROOF(m, D[n]): the first n leaves.
std::vector<Hash> RefProof(const std::vector<Hash>& leaves, uint64_t m, uint64_t n) {
  std::vector<Hash> out;
  if (m < n) RefSubproof(leaves, m, 0, n, true, &out);
  return out;
}

// ---------------------------------------------------------------- in memory

// Complete subtrees as merkle::Frontier reports them.
class MapNodes : public merkle::NodeReader {
 public:
  Status Node(int level, uint64_t index, Hash* out) override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return Status::NotFound("no node");
    *out = it->second;
    return Status::OK();
  }
  void Put(int level, uint64_t index, const Hash& h) { nodes_[{level, index}] = h; }

 private:
  std::map<std::pair<int, uint64_t>, Hash> nodes_;
};

std::string Hex(const std::vector<Hash>& path) {
  std::string s;
  for (const Hash& h : path) s += merkle::ToHex(h) + " ";
  return s;
}

// Every way of spoiling a correct proof must be refused.
void CheckRejections(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                     const std::vector<Hash>& path, const std::vector<Hash>& other_roots) {
  for (size_t i = 0; i < path.size(); ++i) {
    for (int bit : {0, 7, 100, 255, static_cast<int>((i * 37 + m * 11 + n) % 256)}) {
      std::vector<Hash> bad = path;
      bad[i][bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      INFO("m=" << m << " n=" << n << " element " << i << " bit " << bit);
      CHECK_FALSE(merkle::VerifyConsistency(m, n, root_m, root_n, bad));
    }
  }
  if (!path.empty()) {
    std::vector<Hash> shorter(path.begin(), path.end() - 1);
    INFO("m=" << m << " n=" << n << " last element dropped");
    CHECK_FALSE(merkle::VerifyConsistency(m, n, root_m, root_n, shorter));
    std::vector<Hash> swapped = path;
    if (swapped.size() > 1 && swapped.front() != swapped.back()) {
      std::swap(swapped.front(), swapped.back());
      CHECK_FALSE(merkle::VerifyConsistency(m, n, root_m, root_n, swapped));
    }
  }
  std::vector<Hash> longer = path;
  longer.push_back(root_n);
  INFO("m=" << m << " n=" << n << " an element added");
  CHECK_FALSE(merkle::VerifyConsistency(m, n, root_m, root_n, longer));
  for (const Hash& wrong : other_roots) {
    if (wrong != root_m) CHECK_FALSE(merkle::VerifyConsistency(m, n, wrong, root_n, path));
    if (wrong != root_n) CHECK_FALSE(merkle::VerifyConsistency(m, n, root_m, wrong, path));
  }
  Hash flipped_m = root_m, flipped_n = root_n;
  flipped_m[31] ^= 1;
  flipped_n[0] ^= 0x80;
  CHECK_FALSE(merkle::VerifyConsistency(m, n, flipped_m, root_n, path));
  CHECK_FALSE(merkle::VerifyConsistency(m, n, root_m, flipped_n, path));
  if (m != n) CHECK_FALSE(merkle::VerifyConsistency(m, n, root_n, root_m, path));
}

struct TempDir {
  fs::path path =
      fs::temp_directory_path() / ("ocop-replay-consistency-" + std::to_string(getpid()));
  TempDir() { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

// A small deterministic generator (the same numbers on every platform).
struct SplitMix {
  uint64_t x;
  uint64_t Next() {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Next() % (hi - lo + 1); }
};

}  // namespace

TEST_CASE("the reference implementation reproduces RFC 6962's own shapes") {
  // Guards the reference itself: the RFC's example tree of 7 leaves
  // (section 2.1.3) has proofs [c, d, g, l] (3->7), [l] (4->7), [i, j, k] (6->7).
  std::vector<Hash> leaves;
  for (int i = 0; i < 7; ++i) leaves.push_back(RefLeaf(std::string(1, static_cast<char>('a' + i))));
  auto mth = [&](uint64_t lo, uint64_t hi) { return RefMth(leaves, lo, hi); };
  CHECK(RefProof(leaves, 3, 7) == std::vector<Hash>{leaves[2], leaves[3], mth(0, 2), mth(4, 7)});
  CHECK(RefProof(leaves, 4, 7) == std::vector<Hash>{mth(4, 7)});
  CHECK(RefProof(leaves, 6, 7) == std::vector<Hash>{mth(4, 6), leaves[6], mth(0, 4)});
  CHECK(RefProof(leaves, 7, 7).empty());
  // And the reference hashes are SHA-256 with the RFC's prefixes: the
  // well-known root of the empty-string leaf.
  CHECK(merkle::ToHex(RefLeaf("")) ==
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST_CASE("ConsistencyPath equals the RFC's PROOF for every 1 <= m <= n <= 64") {
  constexpr uint64_t kMax = 64;
  MapNodes nodes;
  merkle::Frontier frontier;
  std::vector<Hash> leaves;
  std::vector<Hash> roots(kMax + 1);  // roots[n]: the reference MTH of the first n leaves
  for (uint64_t i = 0; i < kMax; ++i) {
    std::string data = "event " + std::to_string(i) + std::string(i % 5, '*');
    leaves.push_back(RefLeaf(data));
    REQUIRE(merkle::LeafHash(data) == leaves.back());
    frontier.Append(merkle::LeafHash(data),
                    [&](int level, uint64_t index, const Hash& h) { nodes.Put(level, index, h); });
    roots[i + 1] = RefMth(leaves, 0, i + 1);
    REQUIRE(frontier.Root() == roots[i + 1]);
    Hash at;
    REQUIRE(merkle::RootAt(nodes, i + 1, &at).ok());
    REQUIRE(at == roots[i + 1]);
  }

  uint64_t pairs = 0, elements = 0;
  for (uint64_t n = 1; n <= kMax; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      std::vector<Hash> path;
      Status s = merkle::ConsistencyPath(nodes, m, n, &path);
      INFO("m=" << m << " n=" << n << " " << s.ToString());
      REQUIRE(s.ok());
      std::vector<Hash> want = RefProof(leaves, m, n);
      INFO("got  " << Hex(path));
      INFO("want " << Hex(want));
      REQUIRE(path == want);
      REQUIRE(merkle::VerifyConsistency(m, n, roots[m], roots[n], path));
      // Roots of neighbouring sizes stand in for "a root of some other tree".
      std::vector<Hash> others;
      if (m > 1) others.push_back(roots[m - 1]);
      if (n < kMax) others.push_back(roots[n + 1]);
      others.push_back(leaves[m - 1]);
      CheckRejections(m, n, roots[m], roots[n], path, others);
      // The proof is for exactly these sizes.
      if (m < n) CHECK_FALSE(merkle::VerifyConsistency(m + 1, n, roots[m + 1], roots[n], path));
      if (n < kMax && m < n) {
        CHECK_FALSE(merkle::VerifyConsistency(m, n + 1, roots[m], roots[n + 1], path));
      }
      ++pairs;
      elements += path.size();
    }
  }
  CHECK(pairs == kMax * (kMax + 1) / 2);
  CHECK(elements > 0);
  // Sizes the RFC forbids.
  std::vector<Hash> path;
  CHECK_FALSE(merkle::ConsistencyPath(nodes, 0, 5, &path).ok());
  CHECK_FALSE(merkle::ConsistencyPath(nodes, 6, 5, &path).ok());
  CHECK_FALSE(merkle::VerifyConsistency(0, 5, roots[1], roots[5], RefProof(leaves, 1, 5)));
  CHECK_FALSE(merkle::VerifyConsistency(6, 5, roots[5], roots[5], {}));
}

TEST_CASE("Ledger::Consistency equals the reference over the stored events, up to 200") {
  TempDir dir;
  ocop::ledger::Options o;
  o.sync = false;
  int64_t now = 1718000000000000;  // a fixed clock: recording time plays no part here
  o.clock = [&now] { return now += 1000; };
  std::unique_ptr<ocop::ledger::Ledger> l;
  REQUIRE(ocop::ledger::Ledger::Open(dir.path.string(), o, &l).ok());
  constexpr uint64_t kEvents = 200;
  for (uint64_t i = 0; i < kEvents;) {
    // Appends of 1 to 3 events into a few streams, as the workflow makes them.
    ocop::ledger::AppendRequest req;
    for (uint64_t j = 0; j < 1 + i % 3 && i < kEvents; ++j, ++i) {
      ocop::ledger::NewEvent e;
      e.stream = "product/P" + std::to_string(i % 7);
      e.type = "Test";
      e.effective = "2024-01-01";
      e.actor = {"tester", "admin", "CM"};
      req.events.push_back(std::move(e));
    }
    ocop::ledger::AppendResult r;
    REQUIRE(l->Append(req, &r).ok());
  }
  REQUIRE(l->Size() == kEvents);

  // The reference works from the stored bytes alone.
  std::vector<Hash> leaves;
  for (uint64_t seq = 1; seq <= kEvents; ++seq) {
    std::string bytes;
    REQUIRE(l->Get(seq, &bytes).ok());
    leaves.push_back(RefLeaf(bytes));
  }
  std::map<uint64_t, Hash> ref_roots;
  auto ref_root = [&](uint64_t n) {
    auto it = ref_roots.find(n);
    if (it == ref_roots.end()) it = ref_roots.emplace(n, RefMth(leaves, 0, n)).first;
    return it->second;
  };

  SplitMix rng{20240315};
  std::vector<std::pair<uint64_t, uint64_t>> cases = {{1, 1},     {1, 200},   {64, 200}, {128, 200},
                                                      {199, 200}, {200, 200}, {127, 129}};
  for (int i = 0; i < 250; ++i) {
    uint64_t n = rng.Between(1, kEvents);
    cases.emplace_back(rng.Between(1, n), n);
  }
  for (const auto& [m, n] : cases) {
    INFO("m=" << m << " n=" << n);
    ocop::ledger::SignedTreeHead hm, hn;
    REQUIRE(l->TreeHead(m, &hm).ok());
    REQUIRE(l->TreeHead(n, &hn).ok());
    REQUIRE(hm.root == ref_root(m));
    REQUIRE(hn.root == ref_root(n));
    // The heads are signed over exactly these sizes and roots.
    CHECK(ocop::ledger::Signer::Verify(l->signer().public_key(),
                                       ocop::ledger::TreeHeadMessage(m, hm.root), hm.signature));
    std::vector<Hash> path;
    REQUIRE(l->Consistency(m, n, &path).ok());
    REQUIRE(path == RefProof(leaves, m, n));
    REQUIRE(merkle::VerifyConsistency(m, n, hm.root, hn.root, path));
    std::vector<Hash> others = {ref_root(m == 1 ? 2 : m - 1)};
    CheckRejections(m, n, hm.root, hn.root, path, others);
  }
  std::vector<Hash> path;
  CHECK_FALSE(l->Consistency(0, 10, &path).ok());
  CHECK_FALSE(l->Consistency(10, kEvents + 1, &path).ok());
}
