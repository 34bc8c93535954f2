// The ledger's promises (ledger/ledger.h): numbering, expected versions,
// idempotency, atomic multi-stream appends, group commit under concurrency,
// reads and subscriptions, the signed tree and its proofs, tampering, and
// refusing directories that are not ours or are in use.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "ledger/event.capnp.h"
#include "ledger/event_view.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "tests/ledger_support.h"
#include "tests/raw_db.h"

namespace fs = std::filesystem;
using namespace ocop;
using namespace ocop::ledger;

namespace {

struct TempDir : ocop::ledger_support::TempDir {
  TempDir() : ocop::ledger_support::TempDir("ocop-ledger-test") {}
};

using ocop::ledger_support::TestOptions;

std::unique_ptr<Ledger> Open(const TempDir& d, Options o = TestOptions()) {
  std::unique_ptr<Ledger> l;
  Status s = Ledger::Open(d.str(), o, &l);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return l;
}

std::string Payload(const std::string& who) {
  capnp::MallocMessageBuilder m;
  auto a = m.initRoot<schema::Actor>();
  a.setPrincipal(who);
  a.setRole("officer");
  auto flat = capnp::messageToFlatArray(m);
  return std::string(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
}

NewEvent Ev(const std::string& stream, const std::string& type = "Happened") {
  NewEvent e;
  e.stream = stream;
  e.type = type;
  e.effective = "2024-03-15";
  e.actor = {"tester", "officer", "CM"};
  e.payload = Payload(stream);
  return e;
}

AppendRequest Req(std::vector<NewEvent> events, std::vector<ExpectedVersion> expected = {},
                  std::string key = "") {
  AppendRequest r;
  r.events = std::move(events);
  r.expected = std::move(expected);
  r.idempotency_key = std::move(key);
  return r;
}

}  // namespace

TEST_CASE("appends are numbered from 1 and read back exactly") {
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  REQUIRE(l->Append(Req({Ev("product/A"), Ev("product/B"), Ev("product/A")}), &r).ok());
  CHECK(r.seqs == std::vector<uint64_t>{1, 2, 3});
  CHECK(l->Size() == 3);
  uint64_t v = 0;
  REQUIRE(l->StreamVersion("product/A", &v).ok());
  CHECK(v == 2);

  std::string bytes;
  REQUIRE(l->Get(3, &bytes).ok());
  EventView view(bytes);
  REQUIRE(view.ok());
  auto e = view.event();
  CHECK(e.getSeq() == 3);
  CHECK(std::string(e.getStream().cStr()) == "product/A");
  CHECK(e.getVersion() == 2);
  CHECK(std::string(e.getType().cStr()) == "Happened");
  CHECK(std::string(e.getEffective().cStr()) == "2024-03-15");
  CHECK(e.getRecordedAt() >= 1700000000000000);
  CHECK(std::string(e.getActor().getPrincipal().cStr()) == "tester");
  CHECK(std::string(e.getPayload().getAs<schema::Actor>().getPrincipal().cStr()) == "product/A");

  std::vector<uint64_t> seen;
  REQUIRE(l->ScanStream("product/A", 1, 0, [&](uint64_t s, std::string_view) {
             seen.push_back(s);
             return true;
           }).ok());
  CHECK(seen == std::vector<uint64_t>{1, 3});
  seen.clear();
  REQUIRE(l->Scan(2, 5, [&](uint64_t s, std::string_view) {
             seen.push_back(s);
             return true;
           }).ok());
  CHECK(seen == std::vector<uint64_t>{2, 3});
  CHECK(l->Get(4, &bytes).IsNotFound());
}

TEST_CASE("a version conflict names the stream and both versions, and appends nothing") {
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  REQUIRE(l->Append(Req({Ev("product/A")}, {{"product/A", 0}}), &r).ok());
  Status s = l->Append(Req({Ev("product/A")}, {{"product/A", 0}}), &r);
  REQUIRE(s.IsConflict());
  CHECK(s.message().find("product/A") != std::string::npos);
  CHECK(s.message().find("version 1") != std::string::npos);
  CHECK(s.message().find("expected version 0") != std::string::npos);
  CHECK(l->Size() == 1);
  // The refused call used no sequence number.
  REQUIRE(l->Append(Req({Ev("product/A")}, {{"product/A", 1}}), &r).ok());
  CHECK(r.seqs == std::vector<uint64_t>{2});
  // An expectation for a stream the call does not write is bad usage.
  CHECK(l->Append(Req({Ev("product/A")}, {{"product/Z", 0}}), &r).IsInvalidArgument());
}

TEST_CASE("an append on streams it only read is refused once one of them moves") {
  // A decision read a producer and writes a product: it stands only while
  // the producer is as it was read.
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  REQUIRE(l->Append(Req({Ev("subject/S1")}), &r).ok());
  AppendRequest decided = Req({Ev("product/A")}, {{"product/A", 0}});
  decided.unchanged = {{"subject/S1", 1}, {"unit/CM", 0}};
  REQUIRE(l->Append(decided, &r).ok());
  CHECK(r.seqs == std::vector<uint64_t>{2});

  REQUIRE(l->Append(Req({Ev("subject/S1")}), &r).ok());  // S1 moves to version 2
  AppendRequest stale = Req({Ev("product/B")});
  stale.unchanged = {{"subject/S1", 1}};
  Status s = l->Append(stale, &r);
  REQUIRE(s.IsConflict());
  CHECK(s.message().find("'subject/S1' was read at version 1 and is now at version 2") !=
        std::string::npos);
  CHECK(l->Size() == 3);
  uint64_t v = 9;
  REQUIRE(l->StreamVersion("product/B", &v).ok());
  CHECK(v == 0);
  // A stream read as absent must still be absent.
  REQUIRE(l->Append(Req({Ev("unit/CM")}), &r).ok());
  AppendRequest absent = Req({Ev("product/C")});
  absent.unchanged = {{"unit/CM", 0}};
  CHECK(l->Append(absent, &r).IsConflict());
  // Read afresh, it goes.
  stale.unchanged = {{"subject/S1", 2}, {"unit/CM", 1}};
  REQUIRE(l->Append(stale, &r).ok());
  CHECK(r.seqs == std::vector<uint64_t>{5});
}

TEST_CASE("a multi-stream append is all or none") {
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  REQUIRE(l->Append(Req({Ev("unit/CM")}), &r).ok());
  Status s = l->Append(Req({Ev("product/A"), Ev("product/B"), Ev("unit/CM")},
                           {{"product/A", 0}, {"product/B", 0}, {"unit/CM", 5}}),
                       &r);
  REQUIRE(s.IsConflict());
  uint64_t v = 9;
  REQUIRE(l->StreamVersion("product/A", &v).ok());
  CHECK(v == 0);
  CHECK(l->Size() == 1);
  REQUIRE(l->Append(Req({Ev("product/A"), Ev("product/B"), Ev("unit/CM")},
                        {{"product/A", 0}, {"product/B", 0}, {"unit/CM", 1}}),
                    &r)
              .ok());
  CHECK(r.seqs == std::vector<uint64_t>{2, 3, 4});
}

TEST_CASE("an idempotency key returns the first result, also after reopening") {
  TempDir d;
  std::vector<uint64_t> first;
  {
    auto l = Open(d);
    AppendResult r;
    REQUIRE(l->Append(Req({Ev("product/A"), Ev("product/B")}, {}, "k-1"), &r).ok());
    first = r.seqs;
    CHECK_FALSE(r.duplicate);
    AppendResult again;
    REQUIRE(l->Append(Req({Ev("product/A"), Ev("product/B")}, {}, "k-1"), &again).ok());
    CHECK(again.duplicate);
    CHECK(again.seqs == first);
    CHECK(l->Size() == 2);
    // Same key, other content: a conflict, nothing appended.
    Status s = l->Append(Req({Ev("product/C")}, {}, "k-1"), &again);
    CHECK(s.IsConflict());
    CHECK(s.message().find("k-1") != std::string::npos);
    CHECK(l->Size() == 2);
  }
  auto l = Open(d);
  AppendResult again;
  REQUIRE(l->Append(Req({Ev("product/A"), Ev("product/B")}, {}, "k-1"), &again).ok());
  CHECK(again.duplicate);
  CHECK(again.seqs == first);
  CHECK(l->Size() == 2);
}

// The idempotency family's memtable is a hash table (ledger/open.cc), which
// RocksDB only ever reads by whole key and sorts to flush: a key must be
// found wherever it is kept, in the memtable, in a table after a flush, and
// in a memtable refilled from the log after a reopen.
TEST_CASE(
    "idempotency keys are found in the memtable, in tables after a flush, and after a reopen") {
  TempDir d;
  constexpr int kKeys = 600;
  std::map<int, std::vector<uint64_t>> first;  // key number -> its seqs
  auto append = [&](Ledger* l, int i, AppendResult* r) {
    return l->Append(Req({Ev("product/P" + std::to_string(i))}, {}, "id-" + std::to_string(i)), r);
  };
  // Each key again: the first seqs, nothing appended; and with other content
  // a conflict; a key never used is new.
  auto check_all = [&](Ledger* l, int upto) {
    const uint64_t size = l->Size();
    for (int i = 0; i < upto; ++i) {
      AppendResult again;
      REQUIRE(append(l, i, &again).ok());
      CHECK(again.duplicate);
      CHECK(again.seqs == first[i]);
      Status s = l->Append(Req({Ev("product/other")}, {}, "id-" + std::to_string(i)), &again);
      CHECK(s.IsConflict());
    }
    CHECK(l->Size() == size);
    std::string digest;
    std::vector<uint64_t> seqs;
    CHECK(l->FindIdempotencyKey("id-never", &digest, &seqs).IsNotFound());
  };
  {
    auto l = Open(d);
    for (int i = 0; i < kKeys / 2; ++i) {
      AppendResult r;
      REQUIRE(append(l.get(), i, &r).ok());
      CHECK_FALSE(r.duplicate);
      first[i] = r.seqs;
    }
    check_all(l.get(), kKeys / 2);  // in the memtable
    REQUIRE(l->Compact().ok());     // flushed: in a table
    for (int i = kKeys / 2; i < kKeys; ++i) {
      AppendResult r;
      REQUIRE(append(l.get(), i, &r).ok());
      first[i] = r.seqs;
    }
    check_all(l.get(), kKeys);  // half in the table, half in the memtable
  }
  auto l = Open(d);  // the second half read back from the log
  check_all(l.get(), kKeys);
  CHECK(l->Size() == kKeys);
  VerifyResult verified;
  REQUIRE(l->Verify(&verified).ok());
  CHECK(verified.first_bad_seq == 0);

  // What RocksDB recorded it was opened with (its newest OPTIONS file): the
  // hash memtable for the idempotency keys alone, skip lists for the families
  // that are iterated.
  fs::path newest;
  for (const auto& e : fs::directory_iterator(d.path)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("OPTIONS-", 0) == 0 && (newest.empty() || name > newest.filename().string()))
      newest = e.path();
  }
  REQUIRE_FALSE(newest.empty());
  std::ifstream in(newest);
  std::map<std::string, std::string> memtable;  // family -> memtable_factory
  std::string line, family;
  bool concurrent_writes = true;
  while (std::getline(in, line)) {
    if (line.rfind("[CFOptions \"", 0) == 0) family = line.substr(12, line.find('"', 12) - 12);
    const auto at = line.find("memtable_factory=");
    if (at != std::string::npos) memtable[family] = line.substr(at + 17);
    if (line.find("allow_concurrent_memtable_write=false") != std::string::npos)
      concurrent_writes = false;
  }
  CHECK(memtable["idem"].find("HashLinkListRepFactory") != std::string::npos);
  for (const char* iterated : {"events", "streams", "heads", "tree"}) {
    INFO(iterated);
    CHECK(memtable[iterated] == "SkipListFactory");
  }
  CHECK_FALSE(concurrent_writes);
}

TEST_CASE("malformed events are refused and append nothing") {
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  CHECK(l->Append(Req({}), &r).IsInvalidArgument());
  auto bad_stream = Ev("");
  CHECK(l->Append(Req({bad_stream}), &r).IsInvalidArgument());
  auto nul = Ev(std::string("a\0b", 3));
  CHECK(l->Append(Req({nul}), &r).IsInvalidArgument());
  auto date = Ev("s");
  date.effective = "2023-02-29";
  Status s = l->Append(Req({date}), &r);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("YYYY-MM-DD") != std::string::npos);
  auto payload = Ev("s");
  payload.payload = std::string(16, '\xff');
  CHECK(l->Append(Req({payload}), &r).IsInvalidArgument());
  auto type = Ev("s", "");
  CHECK(l->Append(Req({type}), &r).IsInvalidArgument());
  CHECK(l->Size() == 0);
}

TEST_CASE("concurrent writers share group commits and never skip or repeat a number") {
  TempDir d;
  auto l = Open(d);
  const int kThreads = 16, kEach = 100;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<uint64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AppendResult r;
        std::string stream = "product/" + std::to_string(t);
        REQUIRE(l->Append(Req({Ev(stream)}, {{stream, static_cast<uint64_t>(i)}}), &r).ok());
        std::lock_guard<std::mutex> g(mu);
        all.insert(all.end(), r.seqs.begin(), r.seqs.end());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(all.begin(), all.end());
  REQUIRE(all.size() == kThreads * kEach);
  for (size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == i + 1);
  auto stats = l->Stats();
  CHECK(stats.calls == kThreads * kEach);
  CHECK(stats.groups <= stats.calls);  // some calls shared a sync
  VerifyResult v;
  CHECK(l->Verify(&v).ok());
  CHECK(v.checked == kThreads * kEach);
}

TEST_CASE("the signed tree head, inclusion and consistency proofs verify") {
  TempDir d;
  auto l = Open(d);
  for (int i = 0; i < 37; ++i) {
    AppendResult r;
    REQUIRE(l->Append(Req({Ev("s/" + std::to_string(i % 5))}), &r).ok());
  }
  for (uint64_t size : {1, 2, 7, 16, 37}) {
    SignedTreeHead h;
    REQUIRE(l->TreeHead(size, &h).ok());
    CHECK(Signer::Verify(l->signer().public_key(), TreeHeadMessage(size, h.root), h.signature));
    CHECK_FALSE(
        Signer::Verify(l->signer().public_key(), TreeHeadMessage(size + 1, h.root), h.signature));
    for (uint64_t seq = 1; seq <= size; ++seq) {
      InclusionProof p;
      REQUIRE(l->Inclusion(seq, size, &p).ok());
      CHECK(p.leaf_hash == merkle::LeafHash(p.leaf));
      REQUIRE(merkle::VerifyInclusion(p.leaf_hash, seq - 1, size, p.path, h.root));
    }
  }
  SignedTreeHead a, b;
  REQUIRE(l->TreeHead(10, &a).ok());
  REQUIRE(l->TreeHead(37, &b).ok());
  std::vector<merkle::Hash> path;
  REQUIRE(l->Consistency(10, 37, &path).ok());
  CHECK(merkle::VerifyConsistency(10, 37, a.root, b.root, path));
  InclusionProof p;
  CHECK(l->Inclusion(38, 37, &p).IsNotFound());
  CHECK(l->TreeHead(38, &a).IsNotFound());
  // The key file is private.
  struct stat st;
  REQUIRE(stat((d.path / "signing-key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("WaitForAppend is woken by commits, and a follower reads what they added") {
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  REQUIRE(l->Append(Req({Ev("a"), Ev("b")}), &r).ok());
  std::thread writer([&] {
    AppendResult w;
    REQUIRE(l->Append(Req({Ev("c")}), &w).ok());
    REQUIRE(l->Append(Req({Ev("d"), Ev("e")}), &w).ok());
  });
  // A follower, as the server's: wait, then read what the commits added.
  std::vector<uint64_t> got;
  for (uint64_t seen = 2; seen < 5;) {
    uint64_t now = l->WaitForAppend(seen, std::chrono::seconds(10));
    REQUIRE(now > seen);
    REQUIRE(l->Scan(seen + 1, now - seen, [&](uint64_t seq, std::string_view bytes) {
               EventView v(bytes);
               REQUIRE(v.ok());
               REQUIRE(v.event().getSeq() == seq);
               got.push_back(seq);
               return true;
             }).ok());
    seen = now;
  }
  writer.join();
  CHECK(got == std::vector<uint64_t>{3, 4, 5});
  CHECK(l->WaitForAppend(5, std::chrono::milliseconds(50)) == 5);  // times out with nothing new
}

TEST_CASE("a byte changed in a stored event makes verify name that event") {
  TempDir d;
  {
    auto l = Open(d);
    for (int i = 0; i < 50; ++i) {
      AppendResult r;
      REQUIRE(l->Append(Req({Ev("s/" + std::to_string(i % 3))}), &r).ok());
    }
    VerifyResult v;
    REQUIRE(l->Verify(&v).ok());
  }
  // Tamper directly in RocksDB: event 23's payload byte.
  {
    ocop::ledger_support::RawDb raw(d.str());
    std::string v = raw.Get(raw.Family("events"), keys::Seq(23));
    v[v.size() - 3] ^= 0x20;
    raw.Put(raw.Family("events"), keys::Seq(23), v);
  }
  auto l = Open(d);
  VerifyResult v;
  Status s = l->Verify(&v);
  REQUIRE(s.IsTampered());
  CHECK(v.first_bad_seq == 23);
  CHECK(s.message().find("23") != std::string::npos);
}

TEST_CASE("directories that are not ledgers, newer formats and a second process are refused") {
  TempDir foreign;
  fs::create_directories(foreign.path);
  std::ofstream(foreign.path / "notes.txt") << "mine";
  std::unique_ptr<Ledger> l;
  Status s = Ledger::Open(foreign.str(), TestOptions(), &l);
  CHECK(s.IsCorruption());
  CHECK(s.message().find(foreign.str()) != std::string::npos);
  CHECK(fs::exists(foreign.path / "notes.txt"));
  CHECK_FALSE(fs::exists(foreign.path / "CURRENT"));  // nothing written into it

  TempDir newer;
  { auto ok = Open(newer); }
  {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), newer.str(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), newer.str(), cfs, &handles, &db).ok());
    REQUIRE(
        db->Put(rocksdb::WriteOptions(), "format", std::to_string(keys::kFormatVersion + 1)).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  s = Ledger::Open(newer.str(), TestOptions(), &l);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("format " + std::to_string(keys::kFormatVersion + 1)) !=
        std::string::npos);

  TempDir corrupt;
  { auto ok = Open(corrupt); }
  for (const auto& e : fs::directory_iterator(corrupt.path)) {
    if (e.path().filename().string().rfind("MANIFEST", 0) == 0)
      std::ofstream(e.path(), std::ios::trunc) << "garbage";
  }
  s = Ledger::Open(corrupt.str(), TestOptions(), &l);
  CHECK((s.IsCorruption() || s.code() == Status::Code::kIOError));  // storage: exit 3

  TempDir busy;
  auto held = Open(busy);
  pid_t child = fork();
  if (child == 0) {
    std::unique_ptr<Ledger> other;
    Status cs = Ledger::Open(busy.str(), TestOptions(), &other);
    _exit(cs.IsBusy() && cs.message().find("in use") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("AppendEach carries many calls in one group, each succeeding or failing alone") {
  TempDir d;
  auto l = Open(d);
  AppendResult r;
  REQUIRE(l->Append(Req({Ev("product/A")}, {}, "k-0"), &r).ok());
  const uint64_t groups_before = l->Stats().groups;

  std::vector<AppendRequest> reqs;
  reqs.push_back(Req({Ev("product/B")}, {{"product/B", 0}}, "k-1"));  // appended
  reqs.push_back(Req({Ev("product/A")}, {{"product/A", 0}}));         // stale: a conflict
  reqs.push_back(Req({Ev("product/A")}, {}, "k-0"));                  // a repeat of the first call
  reqs.push_back(Req({}));                                            // malformed: no event
  reqs.push_back(Req({Ev("product/C"), Ev("product/B")}, {{"product/B", 1}}));  // after the first
  reqs.push_back(Req({Ev("product/B")}, {{"product/B", 0}}));  // lost to the first of this batch
  std::vector<const AppendRequest*> ptrs;
  for (const auto& q : reqs) ptrs.push_back(&q);
  std::vector<Status> statuses;
  std::vector<AppendResult> results;
  l->AppendEach(ptrs, &statuses, &results);

  REQUIRE(statuses.size() == reqs.size());
  REQUIRE(results.size() == reqs.size());
  CHECK(statuses[0].ok());
  CHECK(results[0].seqs == std::vector<uint64_t>{2});
  CHECK(statuses[1].IsConflict());
  CHECK(statuses[2].ok());
  CHECK(results[2].duplicate);
  CHECK(results[2].seqs == std::vector<uint64_t>{1});
  CHECK(statuses[3].IsInvalidArgument());
  CHECK(statuses[4].ok());
  CHECK(results[4].seqs == std::vector<uint64_t>{3, 4});
  CHECK(statuses[5].IsConflict());
  CHECK(l->Size() == 4);
  // One durable write for the whole batch.
  CHECK(l->Stats().groups == groups_before + 1);
  uint64_t v = 0;
  REQUIRE(l->StreamVersion("product/B", &v).ok());
  CHECK(v == 2);
  VerifyResult verified;
  CHECK(l->Verify(&verified).ok());
  CHECK(verified.checked == 4);
}

// The writer builds each envelope in place in its own buffer, in a first
// segment of the size a MallocMessageBuilder(64 + payload words) would have
// allocated, and writes the numbers it assigns straight into the struct's
// data section (append.cc, BuildEnvelope); an envelope too large for that
// segment is built by a builder of several segments. Either way the stored
// bytes must be exactly what building the envelope with that builder and
// setting the numbers through the schema gives: this pins both paths.
TEST_CASE("an envelope built in place, or spilling past its first segment, is stored as built") {
  TempDir d;
  auto l = Open(d);
  NewEvent small = Ev("product/A");
  NewEvent big = Ev(std::string(1000, 's'), std::string(3000, 't'));
  big.actor.principal = std::string(2000, 'p');
  NewEvent no_payload = Ev("product/B");
  no_payload.payload.clear();
  AppendRequest req = Req({small, big, no_payload, small}, {}, "key-1");
  AppendResult r;
  REQUIRE(l->Append(req, &r).ok());
  REQUIRE(r.seqs == std::vector<uint64_t>{1, 2, 3, 4});
  const uint64_t versions[] = {1, 1, 1, 2};
  for (size_t i = 0; i < req.events.size(); ++i) {
    const NewEvent& e = req.events[i];
    std::string stored;
    REQUIRE(l->Get(r.seqs[i], &stored).ok());
    EventView view(stored);
    REQUIRE(view.ok());

    capnp::MallocMessageBuilder m(64 + e.payload.size() / 8);
    auto ev = m.initRoot<schema::Event>();
    ev.setStream(e.stream);
    ev.setType(e.type);
    ev.setEffective(e.effective);
    auto actor = ev.initActor();
    actor.setPrincipal(e.actor.principal);
    actor.setRole(e.actor.role);
    actor.setUnit(e.actor.unit);
    ev.setIdempotencyKey("key-1");
    if (!e.payload.empty()) {
      auto words = kj::heapArray<capnp::word>(e.payload.size() / sizeof(capnp::word));
      std::memcpy(words.begin(), e.payload.data(), e.payload.size());
      capnp::FlatArrayMessageReader reader(words);
      ev.getPayload().set(reader.getRoot<capnp::AnyPointer>());
    }
    ev.setSeq(r.seqs[i]);
    ev.setVersion(versions[i]);
    ev.setRecordedAt(view.event().getRecordedAt());
    auto flat = capnp::messageToFlatArray(m);
    const std::string expected(reinterpret_cast<const char*>(flat.asBytes().begin()),
                               flat.asBytes().size());
    INFO("event " << i << ", " << m.getSegmentsForOutput().size() << " segment(s)");
    CHECK(stored == expected);
    CHECK(view.event().getSeq() == r.seqs[i]);
    CHECK(view.event().getVersion() == versions[i]);
  }
  VerifyResult v;
  CHECK(l->Verify(&v).ok());
  CHECK(v.checked == 4);
}
