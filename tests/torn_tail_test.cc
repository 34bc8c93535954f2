// A WAL whose last record was torn during its own write (ledger/torn_tail.h)
// is cut back and the ledger opens with every acknowledged event; damage, or
// a cut below a signed head, is still refused, and nothing is changed then.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "ledger/ledger.h"
#include "ledger/log_format.h"
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

uint64_t RecordsEnd(const std::string& wal) {
  uint64_t z = wal.size();
  while (z > 0 && wal[z - 1] == 0) --z;
  return z;
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
  // Where the records end (the file goes on with zeros prepared ahead): the
  // last record ends in a stream's version, whose last byte is not zero here.
  c.record_start = RecordsEnd(ReadAll(NewestWal(live)));
  REQUIRE(l->Append(Events(60, "big"), &r).ok());
  if (sign_last) {
    ocop::ledger::SignedTreeHead head;
    REQUIRE(l->TreeHead(l->Size(), &head).ok());
  }
  c.record_end = RecordsEnd(ReadAll(NewestWal(live)));
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

namespace {

// A physical record of RocksDB's log format with a matching CRC.
std::string PhysicalRecord(ocop::ledger::log_format::Type type, const std::string& payload) {
  std::string typed = std::string(1, static_cast<char>(type)) + payload;
  uint32_t crc = ocop::ledger::log_format::RecordCrc(typed.data(), typed.size());
  std::string r(reinterpret_cast<const char*>(&crc), 4);
  r.push_back(static_cast<char>(payload.size() & 0xff));
  r.push_back(static_cast<char>(payload.size() >> 8));
  return r + typed;
}

}  // namespace

TEST_CASE("a logical record whose last fragments never came is torn; whole records are not") {
  using ocop::ledger::log_format::Type;
  const std::string full = PhysicalRecord(Type::kFull, std::string(100, 'a') + "\x01");
  const std::string first = PhysicalRecord(Type::kFirst, std::string(5000, 'b'));
  uint64_t keep = 0, z = 0;
  SECTION("first fragment, then zeros prepared ahead") {
    std::string wal = full + first + std::string(8192, '\0');
    CHECK(ocop::ledger::EndsInTornRecord(wal, &keep, &z));
    CHECK(keep == full.size());
  }
  SECTION("first fragment, then the file's end") {
    CHECK(ocop::ledger::EndsInTornRecord(full + first, &keep, &z));
    CHECK(keep == full.size());
  }
  SECTION("whole records, then zeros") {
    CHECK(!ocop::ledger::EndsInTornRecord(full + full + std::string(4096, '\0'), &keep, &z));
  }
  SECTION("a whole record ending in seven zero bytes, its CRC broken, is damage") {
    std::string r = PhysicalRecord(Type::kFull, std::string(600, 'c') + std::string(7, '\0'));
    r[0] ^= 1;
    CHECK(!ocop::ledger::EndsInTornRecord(full + r + std::string(4096, '\0'), &keep, &z));
  }
  SECTION("a middle fragment without a first is damage") {
    std::string wal = full + PhysicalRecord(Type::kMiddle, "x") + std::string(4096, '\0');
    CHECK(!ocop::ledger::EndsInTornRecord(wal, &keep, &z));
  }
}
