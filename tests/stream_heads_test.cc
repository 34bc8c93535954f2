// The stream-heads map (ledger/stream_map.h) and its keeper over a ledger
// (ledger/stream_heads.h): the root is the spec's, written again here from the
// header's definition; proofs of heads and of absence verify; every tamper is
// refused; historic sizes, persistence and lazy folding agree with a fold from
// scratch.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <thread>

#include "cli_support.h"
#include "ledger/durable_file.h"
#include "ledger/event_view.h"
#include "ledger/ledger.h"
#include "ledger/log_origin.h"
#include "ledger/stream_heads.h"
#include "ledger/stream_map.h"
#include "tests/ledger_support.h"

namespace fs = std::filesystem;
using namespace ocop;
using namespace ocop::ledger;
using merkle::Hash;

namespace {

// The header's definition, recursively over a sorted set of leaves.
Hash Spec(const std::vector<std::pair<Hash, StreamHead>>& leaves, int depth) {
  if (leaves.empty()) return Hash{};
  if (leaves.size() == 1) return StreamMap::LeafHash(leaves[0].first, leaves[0].second);
  std::vector<std::pair<Hash, StreamHead>> left, right;
  for (const auto& l : leaves) {
    ((l.first[depth / 8] >> (7 - depth % 8)) & 1 ? right : left).push_back(l);
  }
  return StreamMap::NodeHash(Spec(left, depth + 1), Spec(right, depth + 1));
}

struct TempDir : ocop::ledger_support::TempDir {
  TempDir() : ocop::ledger_support::TempDir("ocop-heads-test") {}
};

void Append(Ledger* l, const std::string& stream) {
  AppendRequest r;
  r.events.push_back(NewEvent{stream, "Noted", "2024-01-01", Actor{"p", "officer", "U"}, ""});
  AppendResult res;
  REQUIRE(l->Append(r, &res).ok());
}

}  // namespace

TEST_CASE("the map's root is the header's definition, whatever the order of sets") {
  std::mt19937_64 rng(7);
  for (int n : {0, 1, 2, 3, 17, 1000}) {
    StreamMap a, b;
    std::vector<std::pair<Hash, StreamHead>> leaves;
    std::vector<std::pair<std::string, StreamHead>> sets;
    for (int i = 0; i < n; ++i) {
      std::string s = "product/P" + std::to_string(i);
      StreamHead h{rng() % 50 + 1, rng() % 100000 + 1};
      sets.push_back({s, h});
      leaves.push_back({StreamMap::Key(s), h});
    }
    std::sort(leaves.begin(), leaves.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [s, h] : sets) a.Set(s, StreamHead{1, 1});  // overwritten below
    a.Root();  // memoise, then change every leaf: the memo must follow
    for (const auto& [s, h] : sets) a.Set(s, h);
    for (auto it = sets.rbegin(); it != sets.rend(); ++it) b.Set(it->first, it->second);
    CHECK(a.Root() == Spec(leaves, 0));
    CHECK(b.Root() == a.Root());
  }
}

TEST_CASE("the map's hashes are SHA-256 of the bytes the header names") {
  // The map hashes with OpenSSL's low-level functions; the log with EVP.
  std::mt19937_64 rng(62);
  for (size_t size : {0, 1, 14, 55, 56, 63, 64, 65, 200}) {
    std::string name(size, '\0');
    for (char& c : name) c = static_cast<char>(rng());
    CHECK(StreamMap::Key(name) == merkle::Sha256(name));
  }
  const Hash key = StreamMap::Key("product/P1");
  std::string leaf("\x02");
  leaf.append(reinterpret_cast<const char*>(key.data()), 32);
  leaf.append("\x00\x00\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x00\x01\x00\x03", 16);
  CHECK(StreamMap::LeafHash(key, StreamHead{0x102, 0x10003}) == merkle::Sha256(leaf));
  const Hash right = StreamMap::Key("product/P2");
  std::string node("\x03");
  node.append(reinterpret_cast<const char*>(key.data()), 32);
  node.append(reinterpret_cast<const char*>(right.data()), 32);
  CHECK(StreamMap::NodeHash(key, right) == merkle::Sha256(node));
  // And the name -> key cache gives the same keys, also once it starts over.
  StreamKeys keys(/*limit=*/3);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 10; ++i) {
      const std::string s = "product/P" + std::to_string(i);
      CHECK(keys.Of(s) == merkle::Sha256(s));
      CHECK(keys.size() <= 3);
    }
  }
}

TEST_CASE("keys that share their first 16 bits or more hash as the definition says") {
  // The map keeps its top 16 levels apart from the leaves below them: keys
  // crowded into one bucket, and buckets of one leaf next to them.
  std::mt19937_64 rng(16);
  StreamMap m;
  std::vector<std::pair<Hash, StreamHead>> leaves;
  for (int i = 0; i < 300; ++i) {
    Hash k{};
    for (auto& byte : k) byte = static_cast<uint8_t>(rng());
    if (i % 3 != 0) {
      k[0] = 0xAB;
      k[1] = 0xCD;
      if (i % 3 == 2) k[2] = 0xEF;  // 24 shared bits
    }
    StreamHead h{rng() % 9 + 1, rng() % 1000 + 1};
    m.SetKey(k, h);
    leaves.push_back({k, h});
    if (i % 50 == 0) m.Root();  // kept levels refreshed along the way
  }
  std::sort(leaves.begin(), leaves.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  CHECK(m.streams() == 300);
  CHECK(m.Root() == Spec(leaves, 0));
  std::vector<std::pair<Hash, StreamHead>> walked;
  m.ForEach([&](const Hash& k, const StreamHead& h) { walked.push_back({k, h}); });
  CHECK(walked == leaves);
}

TEST_CASE("proofs verify in a map of more streams than buckets") {
  StreamMap m;
  for (int i = 0; i < 70000; ++i)
    m.Set("product/Q" + std::to_string(i), StreamHead{2, uint64_t(i + 1)});
  const Hash root = m.Root();
  for (int i = 0; i < 70000; i += 97) {
    const std::string s = "product/Q" + std::to_string(i);
    StreamHead h;
    REQUIRE(VerifyHeadProof(s, m.Prove(s), root, &h).ok());
    CHECK(h == StreamHead{2, uint64_t(i + 1)});
    const std::string none = "product/none-" + std::to_string(i);
    REQUIRE(VerifyHeadProof(none, m.Prove(none), root, &h).ok());
    CHECK(h.version == 0);
  }
}

TEST_CASE("proofs show a stream's head or its absence, and refuse every tamper") {
  StreamMap m;
  for (int i = 0; i < 500; ++i)
    m.Set("product/P" + std::to_string(i), StreamHead{uint64_t(i % 7 + 1), uint64_t(i + 1)});
  const Hash root = m.Root();
  for (int i : {0, 1, 250, 499}) {
    std::string s = "product/P" + std::to_string(i);
    HeadProof p = m.Prove(s);
    StreamHead h;
    REQUIRE(VerifyHeadProof(s, p, root, &h).ok());
    CHECK(h == StreamHead{uint64_t(i % 7 + 1), uint64_t(i + 1)});
    // Another version, another seq, a flipped sibling, a lost sibling.
    HeadProof bad = p;
    bad.head.version += 1;
    CHECK(VerifyHeadProof(s, bad, root, &h).IsTampered());
    bad = p;
    bad.head.seq -= 1;
    CHECK(VerifyHeadProof(s, bad, root, &h).IsTampered());
    bad = p;
    bad.siblings[0][3] ^= 1;
    CHECK(VerifyHeadProof(s, bad, root, &h).IsTampered());
    bad = p;
    bad.siblings.pop_back();
    CHECK(VerifyHeadProof(s, bad, root, &h).IsTampered());
    // Claiming the stream is absent.
    bad = p;
    bad.end = HeadProof::End::kEmpty;
    CHECK(VerifyHeadProof(s, bad, root, &h).IsTampered());
    // The proof of one stream is not the proof of another.
    CHECK(VerifyHeadProof("product/X", p, root, &h).IsTampered());
  }
  int absent = 0;
  for (int i = 0; i < 50; ++i) {
    std::string s = "product/none-" + std::to_string(i);
    HeadProof p = m.Prove(s);
    StreamHead h{9, 9};
    REQUIRE(VerifyHeadProof(s, p, root, &h).ok());
    CHECK(h.version == 0);
    absent += p.end == HeadProof::End::kOther;
  }
  CHECK(absent > 0);  // both kinds of absence were exercised
  StreamMap empty;
  StreamHead h;
  CHECK(VerifyHeadProof("a", empty.Prove("a"), empty.Root(), &h).ok());
}

TEST_CASE("the keeper folds lazily, answers historic sizes, and persists") {
  TempDir d;
  Options o;
  o.clock = [] { return int64_t{1700000000000000}; };
  std::unique_ptr<Ledger> l;
  REQUIRE(Ledger::Open(d.path.string(), o, &l).ok());
  StreamMap expect_at_40;
  StreamMap expect;
  for (int i = 1; i <= 100; ++i) {
    std::string s = "product/P" + std::to_string(i % 13);
    Append(l.get(), s);
    expect.Set(s, StreamHead{expect.Get(s).version + 1, uint64_t(i)});
    if (i == 40) expect_at_40 = expect;
  }
  std::unique_ptr<StreamHeads> heads;
  REQUIRE(StreamHeads::Open(l.get(), &heads).ok());
  CHECK(heads->folded() == 0);  // nothing until asked
  Hash root;
  REQUIRE(heads->Root(100, &root).ok());
  CHECK(root == expect.Root());
  CHECK(heads->folded() == 100);
  REQUIRE(heads->Root(100, &root).ok());
  CHECK(heads->folded() == 100);  // nothing new: nothing folded
  HeadProof p;
  REQUIRE(heads->Prove(40, "product/P1", &root, &p).ok());
  CHECK(root == expect_at_40.Root());
  StreamHead h;
  REQUIRE(VerifyHeadProof("product/P1", p, root, &h).ok());
  CHECK(h == expect_at_40.Get("product/P1"));
  CHECK(heads->Root(101, &root).IsInvalidArgument());

  // A checkpoint carries the root and gives it back.
  Checkpoint c;
  std::string note;
  REQUIRE(SignedCheckpoint(l.get(), heads.get(), "test/log", 100, HeadKind::kCheckpoint, &c, &note)
              .ok());
  Checkpoint parsed;
  REQUIRE(ParseCheckpoint(CheckpointText(c), &parsed).ok());
  REQUIRE(StreamHeadsRootOf(parsed, &root).ok());
  CHECK(root == expect.Root());
  parsed.extensions = {"ocop-stream-heads AAAA"};
  CHECK(StreamHeadsRootOf(parsed, &root).IsTampered());
  parsed.extensions.clear();
  CHECK(StreamHeadsRootOf(parsed, &root).IsNotFound());
}

namespace {

// The map of the first `size` events, read back from the log here, apart
// from StreamHeads: what any refold from event 1 gives.
Hash RefoldRoot(Ledger* l, uint64_t size) {
  StreamMap m;
  uint64_t seen = 0;
  REQUIRE(l->Scan(1, size, [&](uint64_t seq, std::string_view bytes) {
             EventView v(bytes);
             REQUIRE(v.ok());
             m.Set(v.event().getStream().cStr(), StreamHead{v.event().getVersion(), seq});
             ++seen;
             return true;
           }).ok());
  REQUIRE(seen == size);
  return m.Root();
}

std::unique_ptr<Ledger> OpenLedger(const fs::path& dir) {
  Options o;
  o.clock = [] { return int64_t{1700000000000000}; };
  std::unique_ptr<Ledger> l;
  REQUIRE(Ledger::Open(dir.string(), o, &l).ok());
  return l;
}

// One call appending `n` events, to streams P(first)..P(first + n - 1) mod 17.
void AppendMany(Ledger* l, int first, int n) {
  AppendRequest r;
  for (int i = 0; i < n; ++i) {
    r.events.push_back(NewEvent{"product/P" + std::to_string((first + i) % 17), "Noted",
                                "2024-01-01", Actor{"p", "officer", "U"}, ""});
  }
  AppendResult res;
  REQUIRE(l->Append(r, &res).ok());
}

}  // namespace

TEST_CASE("the map fed by the appender is the map read back from the log") {
  TempDir d;
  auto l = OpenLedger(d.path);
  std::unique_ptr<StreamHeads> heads;
  REQUIRE(StreamHeads::Open(l.get(), &heads).ok());
  Hash root;
  int next = 0;
  // Single events, calls of several events and streams, several calls in
  // one group (AppendEach), a stream written twice in one call.
  for (int round = 0; round < 6; ++round) {
    Append(l.get(), "product/P" + std::to_string(round));
    AppendMany(l.get(), next, 1 + round * 3);
    next += 1 + round * 3;
    std::vector<AppendRequest> each(3);
    std::vector<const AppendRequest*> ptrs;
    for (auto& r : each) {
      for (int k = 0; k < 2; ++k) {
        r.events.push_back(NewEvent{"product/Q" + std::to_string(next++ % 5), "Noted", "2024-01-01",
                                    Actor{"p", "officer", "U"}, ""});
      }
      ptrs.push_back(&r);
    }
    std::vector<Status> statuses;
    std::vector<AppendResult> results;
    l->AppendEach(ptrs, &statuses, &results);
    for (const Status& st : statuses) REQUIRE(st.ok());
    REQUIRE(heads->Root(l->Size(), &root).ok());
    CHECK(root == RefoldRoot(l.get(), l->Size()));
  }
  // Every event came from the feed: none was read back.
  CHECK(heads->folded() == l->Size());
  CHECK(heads->fed() == l->Size());

  SECTION("a size inside a group is read back, and the feed serves again after it") {
    AppendMany(l.get(), 3, 10);
    const uint64_t size = l->Size();
    const uint64_t fed = heads->fed();
    REQUIRE(heads->Root(size - 4, &root).ok());
    CHECK(root == RefoldRoot(l.get(), size - 4));
    REQUIRE(heads->Root(size, &root).ok());
    CHECK(root == RefoldRoot(l.get(), size));
    AppendMany(l.get(), 5, 7);
    REQUIRE(heads->Root(l->Size(), &root).ok());
    CHECK(root == RefoldRoot(l.get(), l->Size()));
    CHECK(heads->fed() == fed + 7);  // the group of 10 was read back, the next one fed
    CHECK(heads->folded() == l->Size());
    // A historic size after the feed: refolded from the log, the same.
    HeadProof p;
    REQUIRE(heads->Prove(size - 4, "product/P4", &root, &p).ok());
    CHECK(root == RefoldRoot(l.get(), size - 4));
  }
  SECTION("a StreamHeads opened later takes the feed; the first reads back what it misses") {
    std::unique_ptr<StreamHeads> later;
    REQUIRE(StreamHeads::Open(l.get(), &later).ok());
    const uint64_t fed = heads->fed();
    AppendMany(l.get(), 1, 9);
    Hash a, b;
    REQUIRE(heads->Root(l->Size(), &a).ok());
    REQUIRE(later->Root(l->Size(), &b).ok());
    CHECK(a == RefoldRoot(l.get(), l->Size()));
    CHECK(b == a);
    CHECK(heads->fed() == fed);
    CHECK(later->fed() == 9);
    later.reset();  // its feed closes; appends go on
    AppendMany(l.get(), 2, 4);
    REQUIRE(heads->Root(l->Size(), &a).ok());
    CHECK(a == RefoldRoot(l.get(), l->Size()));
  }
}

TEST_CASE("under concurrent appends every root is a refold's, and a new process goes on") {
  TempDir d;
  std::vector<std::pair<uint64_t, Hash>> roots;
  {
    auto l = OpenLedger(d.path);
    // Events before the StreamHeads exists: read back, then fed.
    for (int i = 0; i < 25; ++i) AppendMany(l.get(), i, 1 + i % 4);
    std::unique_ptr<StreamHeads> heads;
    REQUIRE(StreamHeads::Open(l.get(), &heads, /*persist_every=*/100).ok());
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::thread signer([&] {
      while (!done) {
        // Size() first: only what is durable then may be in the root.
        const uint64_t size = l->Size();
        Hash root;
        if (!heads->Root(size, &root).ok()) ++failures;
        if (roots.empty() || roots.back().first != size) roots.push_back({size, root});
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; i < 60; ++i) {
          AppendRequest r;
          for (int k = 0; k <= (i + w) % 5; ++k) {
            r.events.push_back(NewEvent{"product/W" + std::to_string((w * 7 + i + k) % 23), "Noted",
                                        "2024-01-01", Actor{"p", "officer", "U"}, ""});
          }
          AppendResult res;
          if (!l->Append(r, &res).ok()) ++failures;
        }
      });
    }
    for (auto& t : writers) t.join();
    done = true;
    signer.join();
    REQUIRE(failures == 0);
    Hash root;
    REQUIRE(heads->Root(l->Size(), &root).ok());
    roots.push_back({l->Size(), root});
    CHECK(heads->fed() > 0);
    CHECK(heads->fed() < heads->folded());  // the first events were read back
    CHECK(roots.size() > 3);
    for (const auto& [size, r] : roots) CHECK(r == RefoldRoot(l.get(), size));
  }
  // A new process: the persisted map (of some size below the log's), the
  // rest read back, then fed.
  auto l = OpenLedger(d.path);
  std::unique_ptr<StreamHeads> heads;
  REQUIRE(StreamHeads::Open(l.get(), &heads, 100).ok());
  AppendMany(l.get(), 0, 12);
  Hash root;
  REQUIRE(heads->Root(l->Size(), &root).ok());
  CHECK(root == RefoldRoot(l.get(), l->Size()));
  CHECK(heads->fed() == 12);
  CHECK(heads->folded() < l->Size());  // the persisted map spared a fold from event 1
}

TEST_CASE("the persisted map spares a new process the fold, and a damaged one is refolded") {
  TempDir d;
  Options o;
  o.clock = [] { return int64_t{1700000000000000}; };
  std::unique_ptr<Ledger> l;
  REQUIRE(Ledger::Open(d.path.string(), o, &l).ok());
  for (int i = 1; i <= 50; ++i) Append(l.get(), "product/P" + std::to_string(i % 5));
  Hash root, again;
  {
    std::unique_ptr<StreamHeads> heads;
    REQUIRE(StreamHeads::Open(l.get(), &heads, /*persist_every=*/10).ok());
    REQUIRE(heads->Root(50, &root).ok());
  }
  REQUIRE(fs::exists(d.path / StreamHeads::kFileName));
  for (int i = 0; i < 3; ++i) Append(l.get(), "product/P9");
  {
    std::unique_ptr<StreamHeads> heads;
    REQUIRE(StreamHeads::Open(l.get(), &heads, 10).ok());
    REQUIRE(heads->Root(50, &again).ok());
    CHECK(again == root);
    CHECK(heads->folded() == 0);
    REQUIRE(heads->Root(53, &again).ok());
    CHECK(heads->folded() == 3);
  }
  {
    // One flipped byte: the checksum refuses the file and the map is refolded.
    fs::path f = d.path / StreamHeads::kFileName;
    std::string bytes;
    REQUIRE(ReadWholeFile(f.string(), &bytes).ok());
    bytes[bytes.size() / 2] ^= 1;
    REQUIRE(WriteFileDurably(f.string(), bytes, 0644).ok());
    std::unique_ptr<StreamHeads> heads;
    REQUIRE(StreamHeads::Open(l.get(), &heads, 1000).ok());
    REQUIRE(heads->Root(50, &again).ok());
    CHECK(again == root);
    CHECK(heads->folded() == 50);
  }
}

namespace {

// Replaces the head of `key` in a persisted map's bytes and seals the file
// again with a correct checksum: what someone who edits the file would do.
void EditHead(const fs::path& file, size_t entry, uint64_t version) {
  std::string bytes;
  REQUIRE(ReadWholeFile(file.string(), &bytes).ok());
  const size_t at = std::string_view("OCOP-STREAM-HEADS-1\n").size() + 16 + entry * 48 + 32;
  for (int i = 7; i >= 0; --i) bytes[at + 7 - i] = static_cast<char>(version >> (8 * i));
  bytes.resize(bytes.size() - 32);
  Hash sum = merkle::Sha256(bytes);
  bytes.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  REQUIRE(WriteFileDurably(file.string(), bytes, 0644).ok());
}

}  // namespace

TEST_CASE("the persisted map and the latest checkpoint are audited against a fresh fold") {
  TempDir d;
  Options o;
  o.clock = [] { return int64_t{1700000000000000}; };
  std::unique_ptr<Ledger> l;
  REQUIRE(Ledger::Open(d.path.string(), o, &l).ok());
  for (int i = 1; i <= 30; ++i) Append(l.get(), "product/P" + std::to_string(i % 4));
  // The origin `ocop verify` finds for a directory that recorded none.
  const std::string origin = DefaultOrigin(l->signer().public_key());
  const std::vector<note::VerifierKey> keys{LogVerifierKey(origin, l->signer())};
  const fs::path file = d.path / StreamHeads::kFileName;
  const fs::path latest = d.path / StreamHeads::kLatestFileName;
  StreamHeadsAudit audit;
  REQUIRE(AuditStreamHeads(l.get(), keys, &audit).ok());
  CHECK(!audit.file);
  CHECK(!audit.checkpoint);
  {
    std::unique_ptr<StreamHeads> heads;
    REQUIRE(StreamHeads::Open(l.get(), &heads, /*persist_every=*/10).ok());
    Checkpoint c;
    std::string note;
    REQUIRE(
        SignedCheckpoint(l.get(), heads.get(), origin, 20, HeadKind::kCheckpoint, &c, &note).ok());
    // A smaller checkpoint afterwards does not replace the latest.
    REQUIRE(
        SignedCheckpoint(l.get(), heads.get(), origin, 12, HeadKind::kCheckpoint, &c, &note).ok());
  }
  for (int i = 0; i < 5; ++i) Append(l.get(), "product/P9");
  REQUIRE(AuditStreamHeads(l.get(), keys, &audit).ok());
  CHECK(audit.file);
  CHECK(audit.file_size == 20);
  CHECK(audit.file_streams == 4);
  CHECK(audit.checkpoint);
  CHECK(audit.checkpoint_size == 20);

  std::string original;
  REQUIRE(ReadWholeFile(file.string(), &original).ok());
  SECTION("a head edited and the checksum sealed again") {
    EditHead(file, 2, 99);
    Status s = AuditStreamHeads(l.get(), keys, &audit);
    REQUIRE(s.IsTampered());
    CHECK_THAT(s.message(),
               Catch::Contains("stream-heads (size 20) is not the log's stream heads"));
    CHECK_THAT(s.message(), Catch::Contains("is version 99 at seq"));
    CHECK_THAT(s.message(), Catch::Contains("'product/P"));
  }
  SECTION("one flipped byte") {
    std::string bytes = original;
    bytes[bytes.size() / 2] ^= 1;
    REQUIRE(WriteFileDurably(file.string(), bytes, 0644).ok());
    Status s = AuditStreamHeads(l.get(), keys, &audit);
    REQUIRE(s.IsTampered());
    CHECK_THAT(s.message(), Catch::Contains("checksum does not match"));
  }
  SECTION("a checkpoint whose stream-heads line is another root, signed by the log's key") {
    Checkpoint c{origin, 20, {}, {StreamHeadsExtension(Hash{})}};
    InclusionProof p;
    REQUIRE(l->Inclusion(20, 20, &p).ok());
    c.root = p.root;
    REQUIRE(WriteFileDurably(latest.string(), SignCheckpoint(c, l->signer()), 0644).ok());
    Status s = AuditStreamHeads(l.get(), keys, &audit);
    REQUIRE(s.IsTampered());
    CHECK_THAT(s.message(), Catch::Contains("its ocop-stream-heads line is not the root"));
  }
  SECTION("a checkpoint of another log") {
    const std::vector<note::VerifierKey> other{LogVerifierKey("other/log", l->signer())};
    Status s = AuditStreamHeads(l.get(), other, &audit);
    REQUIRE(s.IsTampered());
    CHECK_THAT(s.message(), Catch::Contains(StreamHeads::kLatestFileName));
  }
  SECTION("`ocop verify` says the same and exits 1") {
    l.reset();
    auto ok = testing::Shell(std::string(OCOP_BINARY) + " --data " + d.path.string() + " verify");
    CHECK(ok.code == 0);
    CHECK_THAT(ok.out, Catch::Contains(R"("stream_heads":{"file_size":20,"checkpoint_size":20})"));
    EditHead(file, 0, 7);
    auto bad = testing::Shell(std::string(OCOP_BINARY) + " --data " + d.path.string() + " verify");
    CHECK(bad.code == 1);
    CHECK_THAT(bad.out, Catch::Contains(R"("ok":false)"));
    CHECK_THAT(bad.out, Catch::Contains("is not the log's stream heads: the head of 'product/P"));
  }
}
