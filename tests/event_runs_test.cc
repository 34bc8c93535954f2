// The events family stored as runs (ledger format 3, ledger/ledger_internal.h):
// a batch writes one key per run of consecutive events instead of one per
// event; every read by seq (Get, Scan, ScanStream, proofs, Size after a
// reopen, a secondary) answers the same across run boundaries; a ledger whose
// events are one per key (formats 1 and 2) opens, answers as before and takes
// runs after its keys; verify names the event changed inside a run and
// refuses runs that overlap, are cut or are malformed.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>

#include "ledger/event.capnp.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "ledger/ledger_internal.h"
#include "tests/ledger_support.h"
#include "tests/raw_db.h"

using namespace ocop;
using namespace ocop::ledger;

namespace {

struct TempDir : ocop::ledger_support::TempDir {
  TempDir() : ocop::ledger_support::TempDir("ocop-event-runs-test") {}
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

// The events family of a closed ledger, keyed by the first seq of each key.
struct EventsFamily : ocop::ledger_support::RawDb {
  rocksdb::ColumnFamilyHandle* events;
  explicit EventsFamily(const TempDir& d) : RawDb(d.str()), events(Family("events")) {}
  std::map<uint64_t, std::string> Events() {
    std::map<uint64_t, std::string> all;
    for (auto& [k, v] : All(events)) all[keys::GetBE64(k)] = std::move(v);
    return all;
  }
  std::string Get(uint64_t first) { return RawDb::Get(events, keys::Seq(first)); }
  void Put(uint64_t first, const std::string& v) { RawDb::Put(events, keys::Seq(first), v); }
  // Rewrites the events family as formats 1 and 2 kept it: one event per key.
  void ToOneEventPerKey(const std::string& format) {
    rocksdb::WriteBatch b;
    for (const auto& [first, v] : Events()) {
      EventRun run;
      std::string why;
      REQUIRE(run.Parse(first, v, &why));
      b.Delete(events, keys::Seq(first));
      for (uint64_t seq = run.first(); seq < run.end(); ++seq) {
        b.Put(events, keys::Seq(seq), std::string(run.Event(seq)));
      }
    }
    b.Put("format", format);
    REQUIRE(db->Write(rocksdb::WriteOptions(), &b).ok());
  }
};

bool IsRun(const std::string& v) { return v.starts_with(kEventRunMark); }

// Every event read alone, and the log scanned from many places in pieces of
// several sizes: the bytes of each seq, in order, or a difference.
std::map<uint64_t, std::string> ReadAll(Ledger* l) {
  std::map<uint64_t, std::string> got;
  for (uint64_t seq = 1; seq <= l->Size(); ++seq) {
    std::string bytes;
    Status s = l->Get(seq, &bytes);
    INFO(s.ToString());
    REQUIRE(s.ok());
    got[seq] = bytes;
  }
  for (uint64_t from = 1; from <= l->Size(); from += 13) {
    for (uint64_t limit : {uint64_t{1}, uint64_t{7}, uint64_t{300}, uint64_t{0}}) {
      uint64_t expect = from;
      REQUIRE(l->Scan(from, limit, [&](uint64_t seq, std::string_view bytes) {
                 CHECK(seq == expect);
                 CHECK(got[seq] == bytes);
                 ++expect;
                 return true;
               }).ok());
      CHECK(expect == (limit == 0 ? l->Size() + 1 : std::min(from + limit, l->Size() + 1)));
    }
  }
  return got;
}

// Each stream's events through ScanStream, from a few versions on.
std::vector<std::string> StreamAnswers(Ledger* l) {
  std::vector<std::string> out;
  for (int i = 0; i < 7; ++i) {
    const std::string stream = "s/" + std::to_string(i);
    for (uint64_t from : {uint64_t{0}, uint64_t{3}, uint64_t{50}}) {
      std::string seen;
      REQUIRE(l->ScanStream(stream, from, 0, [&](uint64_t seq, std::string_view bytes) {
                 std::string alone;
                 REQUIRE(l->Get(seq, &alone).ok());
                 CHECK(alone == bytes);
                 seen += std::to_string(seq) + " ";
                 return true;
               }).ok());
      out.push_back(seen);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a batch writes its events as a few runs, none crossing a span or a block") {
  TempDir d;
  {
    auto l = Open(d);
    AppendBatch(l.get(), 1000);
    AppendBatch(l.get(), 1000, 3000);  // about one event a run
    for (int i = 0; i < 5; ++i) AppendBatch(l.get(), 1);
    AppendBatch(l.get(), 1, 20000);  // one event over the budget
  }
  EventsFamily raw(d);
  CHECK(raw.Format() == std::to_string(keys::kFormatVersion));
  auto stored = raw.Events();
  uint64_t next = 1, runs_of_first = 0;
  for (const auto& [first, v] : stored) {
    CHECK(first == next);  // back to back, no gaps, no overlaps
    EventRun run;
    std::string why;
    REQUIRE(run.Parse(first, v, &why));
    CHECK((run.end() - 1) / kTreeRunSpan == first / kTreeRunSpan);
    // A run is kept within the budget; only an event alone may exceed it.
    if (IsRun(v)) CHECK(v.size() <= kEventRunBytes + 8 + 4 * (run.end() - first) + 8);
    if (first <= 1000) ++runs_of_first;
    next = run.end();
  }
  CHECK(next == 2007);
  // Format 2 wrote 1000 keys for the first batch.
  CHECK(runs_of_first < 1000 / 10);
  // A single append writes its event alone, as formats 1 and 2 did.
  for (uint64_t seq = 2001; seq <= 2006; ++seq) {
    REQUIRE(stored.count(seq));
    CHECK_FALSE(IsRun(stored[seq]));
  }
}

TEST_CASE(
    "reads across run boundaries answer every event, also after a reopen and in a secondary") {
  TempDir d;
  std::map<uint64_t, std::string> before;
  std::vector<std::string> streams_before;
  {
    auto l = Open(d);
    AppendBatch(l.get(), 300);
    for (int i = 0; i < 9; ++i) AppendBatch(l.get(), 1);
    AppendBatch(l.get(), 700, 100);
    before = ReadAll(l.get());
    streams_before = StreamAnswers(l.get());
    CHECK(before.size() == 1009);
    InclusionProof p;
    REQUIRE(l->Inclusion(513, 1009, &p).ok());
    CHECK(p.leaf == before[513]);
    SignedTreeHead h;
    REQUIRE(l->TreeHead(1009, &h).ok());
    CHECK(merkle::VerifyInclusion(p.leaf_hash, 512, 1009, p.path, h.root));
  }
  {
    auto l = Open(d);
    CHECK(l->Size() == 1009);  // the last run's last event
    CHECK(ReadAll(l.get()) == before);
    CHECK(StreamAnswers(l.get()) == streams_before);
    VerifyResult v;
    CHECK(l->Verify(&v).ok());
    CHECK(v.checked == 1009);

    std::unique_ptr<Ledger> sec;
    REQUIRE(Ledger::OpenSecondary(d.str(), TestOptions(), &sec).ok());
    CHECK(sec->Size() == 1009);
    AppendBatch(l.get(), 500);
    REQUIRE(sec->CatchUpWithPrimary().ok());
    CHECK(sec->Size() == 1509);
    auto all = ReadAll(sec.get());
    CHECK(std::equal(before.begin(), before.end(), all.begin()));
    CHECK(StreamAnswers(sec.get()) == StreamAnswers(l.get()));
  }
}

TEST_CASE("a ledger with one event per key (formats 1 and 2) opens, answers, and takes runs") {
  for (const char* format : {"1", "2"}) {
    SECTION(std::string("format ") + format) {
      TempDir d;
      std::map<uint64_t, std::string> before;
      std::vector<std::string> streams_before;
      {
        auto l = Open(d);
        AppendBatch(l.get(), 600);
        before = ReadAll(l.get());
        streams_before = StreamAnswers(l.get());
      }
      {
        EventsFamily raw(d);
        raw.ToOneEventPerKey(format);
        CHECK(raw.Events().size() == 600);
      }
      {
        auto l = Open(d);
        CHECK(l->Size() == 600);
        CHECK(ReadAll(l.get()) == before);
        CHECK(StreamAnswers(l.get()) == streams_before);
        VerifyResult v;
        CHECK(l->Verify(&v).ok());
        AppendBatch(l.get(), 600);  // runs after the old keys
        CHECK(l->Size() == 1200);
        auto all = ReadAll(l.get());
        CHECK(std::equal(before.begin(), before.end(), all.begin()));
        REQUIRE(l->Verify(&v).ok());
        CHECK(v.checked == 1200);
      }
      EventsFamily raw(d);
      CHECK(raw.Format() == std::to_string(keys::kFormatVersion));  // marked before any run
      CHECK(raw.Events().size() < 600 + 60);
    }
  }
}

TEST_CASE("verify names the event changed inside a run and refuses runs overlapping, cut or lost") {
  struct Case {
    const char* what;
    std::function<void(EventsFamily&)> tamper;
    uint64_t bad_seq;
    const char* says;
  };
  // One batch of 600: runs start at 1 and end before 256, 512 and 600. The
  // run holding event 267 is found by its first event.
  auto run_of = [](EventsFamily& r, uint64_t seq, uint64_t* first) {
    for (const auto& [k, v] : r.Events()) {
      EventRun run;
      std::string why;
      REQUIRE(run.Parse(k, v, &why));
      if (run.Holds(seq)) {
        *first = k;
        REQUIRE(IsRun(v));
        return v;
      }
    }
    FAIL("no run holds event " << seq);
    return std::string();
  };
  // The run holding `seq`, parsed; it reads from `*v`, which must outlive it.
  auto parsed_run_of = [&](EventsFamily& r, uint64_t seq, uint64_t* first, std::string* v) {
    *v = run_of(r, seq, first);
    EventRun run;
    std::string why;
    REQUIRE(run.Parse(*first, *v, &why));
    return run;
  };
  const std::vector<Case> cases = {
      {"a byte changed inside an event of a run",
       [&](EventsFamily& r) {
         uint64_t first = 0;
         std::string v;
         const EventRun run = parsed_run_of(r, 267, &first, &v);
         const size_t at = run.Event(267).data() - v.data();
         v[at + run.Event(267).size() - 3] ^= 0x20;
         r.Put(first, v);
       },
       267, "does not match its recorded leaf hash"},
      {"a second run over events another holds",
       [&](EventsFamily& r) {
         uint64_t first = 0;
         std::string v;
         const EventRun run = parsed_run_of(r, 267, &first, &v);
         r.Put(run.end() - 1, std::string(run.Event(run.end() - 1)));  // its last event again
       },
       0, "overlapping runs"},
      {"a run cut short",
       [&](EventsFamily& r) {
         uint64_t first = 0;
         std::string v = run_of(r, 267, &first);
         v.resize(v.size() - 8);
         r.Put(first, v);
       },
       0, "malformed offset"},
      {"an offset out of order",
       [&](EventsFamily& r) {
         uint64_t first = 0;
         std::string v = run_of(r, 267, &first);
         v[8] = '\x7f';  // the first event's end, far past the run
         r.Put(first, v);
       },
       0, "malformed offset"},
      {"a run lost",
       [&](EventsFamily& r) {
         uint64_t first = 0;
         run_of(r, 267, &first);
         REQUIRE(r.db->Delete(rocksdb::WriteOptions(), r.events, keys::Seq(first)).ok());
       },
       0, "is missing"},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      TempDir d;
      {
        auto l = Open(d);
        AppendBatch(l.get(), 600);
      }
      uint64_t first = 0;
      {
        EventsFamily raw(d);
        run_of(raw, 267, &first);
        c.tamper(raw);
      }
      std::unique_ptr<Ledger> l;
      REQUIRE(Ledger::Open(d.str(), TestOptions(), &l).ok());
      VerifyResult v;
      Status s = l->Verify(&v);
      INFO(s.ToString());
      CHECK(s.IsTampered());
      // Named: the event changed, or else the first event of the run refused
      // (for an overlap, the first event after the run it overlaps).
      if (c.bad_seq != 0) {
        CHECK(v.first_bad_seq == c.bad_seq);
      } else {
        CHECK(v.first_bad_seq >= first);
        CHECK(v.first_bad_seq <= 512);
      }
      CHECK(v.problem.find(c.says) != std::string::npos);
      // Reads refuse it too, never answering with other bytes.
      std::string bytes;
      Status g = l->Get(267, &bytes);
      if (c.bad_seq == 0 && std::string(c.what) != "a second run over events another holds") {
        CHECK(g.IsCorruption());
      }
    }
  }
}

TEST_CASE("events are flattened as Cap'n Proto's messageToFlatArray flattens them") {
  // One segment, and several (a text larger than the first segment).
  for (size_t text : {size_t{10}, size_t{100000}}) {
    capnp::MallocMessageBuilder m(64);
    auto ev = m.initRoot<schema::Event>();
    ev.setSeq(7);
    ev.setStream(std::string(text, 's'));
    ev.setType("Happened");
    kj::Array<capnp::word> flat = capnp::messageToFlatArray(m);
    auto bytes = flat.asBytes();
    std::string mine = "before";
    AppendFlat(m, &mine);
    CHECK(m.getSegmentsForOutput().size() == (text > 1000 ? 2u : 1u));
    CHECK(mine ==
          "before" + std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
  }
}
