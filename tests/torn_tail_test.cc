// A WAL whose last record was torn during its own write (ledger/torn_tail.h)
// is cut back and the ledger opens with every acknowledged event; damage, or
// a cut below a signed head, is still refused, and nothing is changed then.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "ledger/ledger.h"
#include "ledger/torn_tail.h"

namespace fs = std::filesystem;
using ocop::ledger::Ledger;

namespace {

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteAll(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

ocop::ledger::Options TestOptions() {
  ocop::ledger::Options o;
  o.clock = [] { return int64_t{1'700'000'000'000'000}; };
  return o;
}

ocop::ledger::AppendRequest Events(int n, const std::string& stream) {
  ocop::ledger::AppendRequest r;
  for (int i = 0; i < n; ++i) {
    ocop::ledger::NewEvent e;
    e.stream = stream + "/" + std::to_string(i % 7);
    e.type = "Noted";
    e.effective = "2026-12-03";
    e.actor.principal = "tester";
    e.actor.role = "test";
    r.events.push_back(e);
  }
  return r;
}

fs::path NewestWal(const fs::path& dir) {
  fs::path newest;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.size() > 4 && n.substr(n.size() - 4) == ".log" && (newest.empty() || e.path() > newest))
      newest = e.path();
  }
  return newest;
}

struct Crashed {
  fs::path dir;        // a copy of the directory taken while the ledger was open
  uint64_t acked = 0;  // events acknowledged before the last, big group
  uint64_t record_start = 0, record_end = 0;  // the big group's record in the newest WAL
};

// Appends small groups, then one group of ~60 events (a record over several
// pages), and copies the directory while the ledger is open, as a crash
// would leave it. `sign_last`: a head covering the big group is signed first.
Crashed MakeCrash(const std::string& name, bool sign_last) {
  Crashed c;
  fs::path live = fs::temp_directory_path() / (name + "-live-" + std::to_string(getpid()));
  c.dir = fs::temp_directory_path() / (name + "-" + std::to_string(getpid()));
  fs::remove_all(live);
  fs::remove_all(c.dir);
  std::unique_ptr<Ledger> l;
  REQUIRE(Ledger::Open(live.string(), TestOptions(), &l).ok());
  ocop::ledger::AppendResult r;
  for (int i = 0; i < 5; ++i) REQUIRE(l->Append(Events(3, "small"), &r).ok());
  c.acked = l->Size();
  c.record_start = ReadAll(NewestWal(live)).size();
  REQUIRE(l->Append(Events(60, "big"), &r).ok());
  if (sign_last) {
    ocop::ledger::SignedTreeHead head;
    REQUIRE(l->TreeHead(l->Size(), &head).ok());
  }
  std::string wal = ReadAll(NewestWal(live));
  uint64_t z = wal.size();
  while (z > 0 && wal[z - 1] == 0) --z;
  c.record_end = z;
  fs::copy(live, c.dir, fs::copy_options::recursive);
  l.reset();
  fs::remove_all(live);
  return c;
}

}  // namespace

TEST_CASE("a WAL record torn during its own write is cut back; the ledger opens whole") {
  for (bool growing : {false, true}) {
    INFO((growing ? "the file ends at the tear" : "zeros follow the tear, as prepared"));
    Crashed c = MakeCrash("ocop-torn", false);
    REQUIRE(c.record_end - c.record_start > 3 * 4096);  // the big group spans pages
    fs::path wal = NewestWal(c.dir);
    std::string bytes = ReadAll(wal);
    // Torn at the page boundary after the record's first page: what the
    // kernel had copied when the writer was killed.
    const uint64_t tear = (c.record_start / 4096 + 1) * 4096;
    if (growing) {
      bytes.resize(tear);
    } else {
      for (uint64_t i = tear; i < bytes.size(); ++i) bytes[i] = 0;
    }
    WriteAll(wal, bytes);

    uint64_t keep = 0, z = 0;
    REQUIRE(ocop::ledger::EndsInTornRecord(bytes, &keep, &z));
    CHECK(keep == c.record_start);

    std::unique_ptr<Ledger> l;
    ocop::Status s = Ledger::Open(c.dir.string(), TestOptions(), &l);
    REQUIRE(s.ok());
    CHECK(l->Size() == c.acked);
    REQUIRE(l->torn_tail().found);
    CHECK(l->torn_tail().kept == c.record_start);
    CHECK(l->torn_tail().removed == z - c.record_start);
    CHECK(ReadAll(l->torn_tail().saved_as) == bytes.substr(c.record_start, z - c.record_start));
    ocop::ledger::VerifyResult v;
    REQUIRE(l->Verify(&v).ok());
    CHECK(v.first_bad_seq == 0);
    // It takes appends after the cut, and opens again without cutting.
    ocop::ledger::AppendResult r;
    REQUIRE(l->Append(Events(2, "after"), &r).ok());
    CHECK(r.seqs.front() == c.acked + 1);
    l.reset();
    REQUIRE(Ledger::Open(c.dir.string(), TestOptions(), &l).ok());
    CHECK(!l->torn_tail().found);
    CHECK(l->Size() == c.acked + 2);
    l.reset();
    fs::remove_all(c.dir);
  }
}

TEST_CASE("damage in the WAL is not taken for a tear: refused, nothing changed") {
  Crashed c = MakeCrash("ocop-damaged", false);
  fs::path wal = NewestWal(c.dir);
  std::string bytes = ReadAll(wal);

  SECTION("a byte flipped in an earlier record") { bytes[c.record_start / 2] ^= 0x40; }
  SECTION("a byte flipped in the last record, all of whose bytes are there") {
    bytes[c.record_end - 100] ^= 0x40;
  }
  SECTION("a tear followed by records again") {
    // The big record's middle page zeroed: its end is still there.
    const uint64_t page = (c.record_start / 4096 + 1) * 4096;
    for (uint64_t i = page; i < page + 4096; ++i) bytes[i] = 0;
  }
  WriteAll(wal, bytes);
  uint64_t keep = 0, z = 0;
  CHECK(!ocop::ledger::EndsInTornRecord(bytes, &keep, &z));

  std::unique_ptr<Ledger> l;
  ocop::Status s = Ledger::Open(c.dir.string(), TestOptions(), &l);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("write-ahead log") != std::string::npos);
  CHECK(ReadAll(wal) == bytes);
  CHECK(!fs::exists(c.dir / "torn-wal-tails"));
  fs::remove_all(c.dir);
}

TEST_CASE("a torn tail below a signed head is cut, and the open refused for the lost head") {
  Crashed c = MakeCrash("ocop-torn-signed", true);
  fs::path wal = NewestWal(c.dir);
  std::string bytes = ReadAll(wal);
  const uint64_t tear = (c.record_start / 4096 + 1) * 4096;
  bytes.resize(tear);
  WriteAll(wal, bytes);
  std::unique_ptr<Ledger> l;
  ocop::Status s = Ledger::Open(c.dir.string(), TestOptions(), &l);
  // Cannot happen with a real tear (a head is signed only over events already
  // durable); if it does, the ledger names the loss instead of opening.
  CHECK(s.IsCorruption());
  CHECK(s.message().find("acknowledged events are lost") != std::string::npos);
  fs::remove_all(c.dir);
}
