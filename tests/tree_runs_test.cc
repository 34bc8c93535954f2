// The hash tree and the streams' entries stored as runs (ledger format 2,
// ledger/ledger_internal.h): a batch writes a few keys instead of one per
// subtree and one per event; a ledger of format 1 (one subtree, one version
// per key) opens, answers the same roots, proofs and stream reads, and takes
// runs after its old keys; verify finds a run changed, lost, doubled or cut.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>

#include "ledger/event.capnp.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "tests/ledger_support.h"
#include "tests/raw_db.h"

namespace fs = std::filesystem;
using namespace ocop;
using namespace ocop::ledger;

namespace {

struct TempDir : ocop::ledger_support::TempDir {
  TempDir() : ocop::ledger_support::TempDir("ocop-tree-runs-test") {}
};

using ocop::ledger_support::TestOptions;

std::unique_ptr<Ledger> Open(const TempDir& d) {
  std::unique_ptr<Ledger> l;
  Status s = Ledger::Open(d.str(), TestOptions(), &l);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return l;
}

using ocop::ledger_support::AppendBatch;

// The tree and streams families of a closed ledger.
struct TreeFamilies : ocop::ledger_support::RawDb {
  rocksdb::ColumnFamilyHandle* tree;
  rocksdb::ColumnFamilyHandle* streams;
  explicit TreeFamilies(const TempDir& d)
      : RawDb(d.str()), tree(Family("tree")), streams(Family("streams")) {}
  std::map<std::string, std::string> Tree() { return All(tree); }
  // Rewrites the tree and streams families as format 1 kept them: one
  // subtree, one stream version per key.
  void ToFormat1() {
    rocksdb::WriteBatch b;
    for (const auto& [k, v] : Tree()) {
      REQUIRE(v.size() % 32 == 0);
      b.Delete(tree, k);
      const int level = static_cast<uint8_t>(k[0]);
      const uint64_t first = keys::GetBE64(std::string_view(k).substr(1));
      for (size_t i = 0; i < v.size() / 32; ++i) {
        b.Put(tree, keys::TreeNode(level, first + i), v.substr(32 * i, 32));
      }
    }
    for (const auto& [k, v] : All(streams)) {
      REQUIRE(v.size() % 8 == 0);
      b.Delete(streams, k);
      const std::string stream = k.substr(0, k.size() - 9);
      const uint64_t first = keys::GetBE64(std::string_view(k).substr(k.size() - 8));
      for (size_t i = 0; i < v.size() / 8; ++i) {
        b.Put(streams, keys::StreamEntry(stream, first + i), v.substr(8 * i, 8));
      }
    }
    b.Put("format", "1");
    REQUIRE(db->Write(rocksdb::WriteOptions(), &b).ok());
  }
};

// Every root, and proofs of a few kinds, of the log's trees up to its size.
std::vector<std::string> Answers(Ledger* l) {
  std::vector<std::string> out;
  const uint64_t n = l->Size();
  auto hex = [](const std::vector<merkle::Hash>& p) {
    std::string s;
    for (const auto& h : p) s += merkle::ToHex(h) + " ";
    return s;
  };
  for (uint64_t size = 1; size <= n; size += size < 40 ? 1 : 97) {
    SignedTreeHead h;
    REQUIRE(l->TreeHead(size, &h).ok());
    out.push_back(merkle::ToHex(h.root));
    for (uint64_t seq : {uint64_t{1}, (size + 1) / 2, size}) {
      InclusionProof p;
      REQUIRE(l->Inclusion(seq, size, &p).ok());
      REQUIRE(merkle::VerifyInclusion(p.leaf_hash, seq - 1, size, p.path, h.root));
      out.push_back(hex(p.path));
    }
    std::vector<merkle::Hash> c;
    REQUIRE(l->Consistency((size + 2) / 3, size, &c).ok());
    out.push_back(hex(c));
  }
  return out;
}

// Each stream's version and its events' seqs read from several versions on,
// whole and in pieces.
std::vector<std::string> StreamAnswers(Ledger* l) {
  std::vector<std::string> out;
  for (int i = 0; i < 8; ++i) {  // s/7 is never written
    const std::string stream = "s/" + std::to_string(i);
    uint64_t version = 0;
    REQUIRE(l->StreamVersion(stream, &version).ok());
    out.push_back(stream + " at " + std::to_string(version));
    for (uint64_t from : {uint64_t{0}, uint64_t{2}, uint64_t{40}, uint64_t{129}, version}) {
      for (uint64_t limit : {uint64_t{0}, uint64_t{3}, uint64_t{200}}) {
        std::string seqs;
        REQUIRE(l->ScanStream(stream, from, limit, [&](uint64_t seq, std::string_view) {
                   seqs += std::to_string(seq) + " ";
                   return true;
                 }).ok());
        out.push_back(seqs);
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a batch writes its subtrees as a few runs, none crossing a span") {
  TempDir d;
  {
    auto l = Open(d);
    AppendBatch(l.get(), 1000);
    AppendBatch(l.get(), 1000);
    for (int i = 0; i < 5; ++i) AppendBatch(l.get(), 1);
  }
  TreeFamilies raw(d);
  CHECK(raw.Format() == std::to_string(keys::kFormatVersion));
  auto tree = raw.Tree();
  // Format 1 wrote 2 * 2005 - popcount(2005) = 4002 keys; runs: a few per
  // level per batch, and about two per single event.
  CHECK(tree.size() < 80);
  uint64_t level0 = 0;
  for (const auto& [k, v] : tree) {
    REQUIRE(v.size() % 32 == 0);
    REQUIRE(!v.empty());
    const uint64_t first = keys::GetBE64(std::string_view(k).substr(1));
    const uint64_t last = first + v.size() / 32 - 1;
    CHECK(first / 256 == last / 256);
    if (k[0] == 0) level0 += v.size() / 32;
  }
  CHECK(level0 == 2005);
  // Seven streams: a run per stream per call, split where a version is a
  // multiple of 256; format 1 wrote one key per event.
  auto entries = raw.All(raw.streams);
  CHECK(entries.size() < 40);
  uint64_t seqs = 0;
  for (const auto& [k, v] : entries) seqs += v.size() / 8;
  CHECK(seqs == 2005);
}

TEST_CASE("a ledger of format 1 opens, answers as before, and takes runs after its keys") {
  TempDir d;
  std::vector<std::string> before, streams_before;
  {
    auto l = Open(d);
    AppendBatch(l.get(), 300);
    for (int i = 0; i < 9; ++i) AppendBatch(l.get(), 1);
    AppendBatch(l.get(), 700);
    before = Answers(l.get());
    streams_before = StreamAnswers(l.get());
  }
  size_t old_keys = 0;
  {
    TreeFamilies raw(d);
    raw.ToFormat1();
    old_keys = raw.Tree().size();
    CHECK(old_keys == 2 * 1009 - 7);  // one key per complete subtree; popcount(1009) = 7
    CHECK(raw.Format() == "1");
  }
  {
    auto l = Open(d);
    CHECK(Answers(l.get()) == before);
    CHECK(StreamAnswers(l.get()) == streams_before);
    VerifyResult v;
    CHECK(l->Verify(&v).ok());
    CHECK(v.checked == 1009);
    AppendBatch(l.get(), 1000);  // runs after the old keys
    AppendBatch(l.get(), 1);
    REQUIRE(l->Verify(&v).ok());
    // A stream read across old keys and new runs: versions in order, each
    // once, the new events after the old.
    std::vector<uint64_t> seqs;
    REQUIRE(l->ScanStream("s/0", 0, 0, [&](uint64_t seq, std::string_view) {
               seqs.push_back(seq);
               return true;
             }).ok());
    uint64_t version = 0;
    REQUIRE(l->StreamVersion("s/0", &version).ok());
    CHECK(seqs.size() == version);
    CHECK(std::is_sorted(seqs.begin(), seqs.end()));
    CHECK(seqs.back() == 2010);  // the last single append (seq 2010, stream s/0)
    auto after = Answers(l.get());
    CHECK(std::vector<std::string>(after.begin(), after.begin() + 40) ==
          std::vector<std::string>(before.begin(), before.begin() + 40));
  }
  TreeFamilies raw(d);
  CHECK(raw.Format() == std::to_string(keys::kFormatVersion));  // marked before any run
  CHECK(raw.Tree().size() < old_keys + 40);
}

TEST_CASE("verify finds a run changed, lost, doubled or cut") {
  struct Case {
    const char* what;
    std::function<void(TreeFamilies&)> tamper;
    uint64_t bad_seq;
    const char* says;
  };
  // One batch of 600: level 0 runs start at 0, 256 and 512; level 1 at 0,
  // 256; level 8 holds subtrees 0 and 1 (events 1..256 and 257..512).
  const std::vector<Case> cases = {
      {"a hash changed inside a run",
       [](TreeFamilies& r) {
         std::string v;
         REQUIRE(r.db->Get(rocksdb::ReadOptions(), r.tree, keys::TreeNode(0, 256), &v).ok());
         v[32 * 10 + 5] ^= 1;  // leaf 266, event 267
         REQUIRE(r.db->Put(rocksdb::WriteOptions(), r.tree, keys::TreeNode(0, 256), v).ok());
       },
       267, "does not match its recorded leaf hash"},
      {"a run lost",
       [](TreeFamilies& r) {
         REQUIRE(r.db->Delete(rocksdb::WriteOptions(), r.tree, keys::TreeNode(1, 256)).ok());
       },
       513, "no node for level 1, index 256"},
      {"a second run over the same subtrees",
       [](TreeFamilies& r) {
         std::string v;
         REQUIRE(r.db->Get(rocksdb::ReadOptions(), r.tree, keys::TreeNode(0, 256), &v).ok());
         REQUIRE(
             r.db->Put(rocksdb::WriteOptions(), r.tree, keys::TreeNode(0, 300), v.substr(32 * 44))
                 .ok());
       },
       513, "overlapping runs of level 0 before index 512"},
      {"a run cut inside a hash",
       [](TreeFamilies& r) {
         std::string v;
         REQUIRE(r.db->Get(rocksdb::ReadOptions(), r.tree, keys::TreeNode(0, 512), &v).ok());
         v.resize(v.size() - 1);
         REQUIRE(r.db->Put(rocksdb::WriteOptions(), r.tree, keys::TreeNode(0, 512), v).ok());
       },
       513, "does not match its recorded leaf hash"},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      TempDir d;
      {
        auto l = Open(d);
        AppendBatch(l.get(), 600);
      }
      {
        TreeFamilies raw(d);
        c.tamper(raw);
      }
      std::unique_ptr<Ledger> l;
      REQUIRE(Ledger::Open(d.str(), TestOptions(), &l).ok());
      VerifyResult v;
      Status s = l->Verify(&v);
      INFO(s.ToString());
      CHECK(s.IsTampered());
      CHECK(v.first_bad_seq == c.bad_seq);
      CHECK(v.problem.find(c.says) != std::string::npos);
    }
  }
}
