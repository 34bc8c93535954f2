// The WAL files of ledger/wal_file.h: records written over zeros prepared
// ahead of them read back whole, zeros never land on a record, a closed file
// is cut back to its records, an open one reports its records' size, the
// disk's reserve is left alone, and a reader beside the writer sees every
// record written over the zeros.
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "ledger/backup.h"
#include "ledger/ledger.h"
#include "ledger/wal_file.h"

namespace fs = std::filesystem;

namespace {

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Record `i`: 300 bytes that say which record they are.
std::string Record(int i) {
  std::string r = "record " + std::to_string(i) + " ";
  r.resize(300, static_cast<char>('a' + i % 26));
  return r;
}

}  // namespace

TEST_CASE("WAL records written over prepared zeros read back whole, followed by zeros only") {
  fs::path dir = fs::temp_directory_path() / ("ocop-wal-file-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path wal = dir / "000007.log";
  auto fs = ocop::ledger::PreparedWalEnv(0)->GetFileSystem();
  std::unique_ptr<rocksdb::FSWritableFile> f;
  REQUIRE(fs->NewWritableFile(wal.string(), rocksdb::FileOptions(), &f, nullptr).ok());

  // Appends and syncs 3.5 MB of records, a few at a time, so that chunks of
  // zeros are prepared while records are being written just before them.
  std::string expected;
  bool saw_prepared = false;
  for (int i = 0; i < 12000; ++i) {
    std::string r = Record(i);
    REQUIRE(f->Append(r, rocksdb::IOOptions(), nullptr).ok());
    expected += r;
    if (i % 7 == 0) REQUIRE(f->Sync(rocksdb::IOOptions(), nullptr).ok());
    if (i % 1000 == 999) {
      // Give the preparing thread time to run ahead, as an idle moment would.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      saw_prepared |= fs::file_size(wal) > expected.size();
    }
  }
  REQUIRE(f->GetFileSize(rocksdb::IOOptions(), nullptr) == expected.size());
  CHECK(saw_prepared);  // the file really was longer than its records
  // Asked by name (as a backup sizes the live WAL), it is its records.
  uint64_t by_name = 0;
  REQUIRE(fs->GetFileSize(wal.string(), rocksdb::IOOptions(), &by_name, nullptr).ok());
  CHECK(by_name == expected.size());

  // As a crash would leave it: the records, then zeros.
  std::string live = ReadAll(wal);
  REQUIRE(live.size() >= expected.size());
  REQUIRE(live.compare(0, expected.size(), expected) == 0);
  CHECK(live.find_first_not_of('\0', expected.size()) == std::string::npos);

  // Closed: exactly the records, as RocksDB's own files.
  REQUIRE(f->Close(rocksdb::IOOptions(), nullptr).ok());
  CHECK(ReadAll(wal) == expected);
  REQUIRE(fs->GetFileSize(wal.string(), rocksdb::IOOptions(), &by_name, nullptr).ok());
  CHECK(by_name == expected.size());

  // Other files are RocksDB's own.
  std::unique_ptr<rocksdb::FSWritableFile> other;
  REQUIRE(fs->NewWritableFile((dir / "MANIFEST-000001").string(), rocksdb::FileOptions(), &other,
                              nullptr)
              .ok());
  REQUIRE(other->Append("m", rocksdb::IOOptions(), nullptr).ok());
  REQUIRE(other->Close(rocksdb::IOOptions(), nullptr).ok());
  CHECK(fs::file_size(dir / "MANIFEST-000001") == 1);
  fs::remove_all(dir);
}

TEST_CASE("no zeros are prepared where they would take the disk's reserve") {
  fs::path dir = fs::temp_directory_path() / ("ocop-wal-reserve-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path wal = dir / "000009.log";
  // A reserve larger than any disk: every chunk would take from it.
  auto fs = ocop::ledger::PreparedWalEnv(uint64_t{1} << 62)->GetFileSystem();
  std::unique_ptr<rocksdb::FSWritableFile> f;
  REQUIRE(fs->NewWritableFile(wal.string(), rocksdb::FileOptions(), &f, nullptr).ok());
  uint64_t written = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string r = Record(i);
    REQUIRE(f->Append(r, rocksdb::IOOptions(), nullptr).ok());
    written += r.size();
    if (i % 10 == 0) REQUIRE(f->Sync(rocksdb::IOOptions(), nullptr).ok());
    if (i % 1000 == 999) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      CHECK(fs::file_size(wal) == written);  // grown as RocksDB's own file, no further
    }
  }
  REQUIRE(f->Close(rocksdb::IOOptions(), nullptr).ok());
  CHECK(fs::file_size(wal) == written);
  fs::remove_all(dir);
}

namespace {

ocop::ledger::AppendRequest Events(int first, int n) {
  ocop::ledger::AppendRequest r;
  for (int i = first; i < first + n; ++i) {
    ocop::ledger::NewEvent e;
    e.stream = "product/" + std::to_string(i % 7);
    e.type = "Happened";
    e.effective = "2024-03-15";
    e.actor = {"tester", "officer", "CM"};
    e.payload.clear();
    r.events.push_back(e);
  }
  return r;
}

}  // namespace

TEST_CASE("a reader beside the writer sees every record written over the zeros") {
  using namespace ocop::ledger;
  fs::path dir = fs::temp_directory_path() / ("ocop-wal-beside-" + std::to_string(getpid()));
  fs::remove_all(dir);
  Options o;
  auto t = std::make_shared<std::atomic<int64_t>>(1700000000000000);
  o.clock = [t] { return t->fetch_add(1000); };
  std::unique_ptr<Ledger> primary;
  REQUIRE(Ledger::Open(dir.string(), o, &primary).ok());
  AppendResult r;
  for (int i = 0; i < 50; ++i) REQUIRE(primary->Append(Events(i * 3, 3), &r).ok());
  // Time for the zeros to be prepared ahead of the records.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  std::unique_ptr<Ledger> beside;
  ocop::Status s = Ledger::OpenSecondary(dir.string(), o, &beside);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(beside->Size() == 150);
  // Written after the reader passed the zeros once: RocksDB's own reader
  // would have skipped them for good.
  std::thread writer([&] {
    AppendResult wr;
    for (int i = 50; i < 650; ++i) {
      if (!primary->Append(Events(i * 3, 3), &wr).ok()) break;
    }
  });
  // Catching up while records are being copied in: none is taken for damage.
  for (int i = 0; i < 200; ++i) {
    s = beside->CatchUpWithPrimary();
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  writer.join();
  REQUIRE(primary->Size() == 1950);
  s = beside->CatchUpWithPrimary();
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(beside->Size() == 1950);
  std::string bytes;
  CHECK(beside->Get(1950, &bytes).ok());
  beside.reset();
  primary.reset();
  fs::remove_all(dir);
}

TEST_CASE("a backup copies the live WAL up to its records, not its zeros, and restores whole") {
  using namespace ocop::ledger;
  fs::path dir = fs::temp_directory_path() / ("ocop-wal-backup-" + std::to_string(getpid()));
  fs::remove_all(dir);
  Options o;
  auto t = std::make_shared<std::atomic<int64_t>>(1700000000000000);
  o.clock = [t] { return t->fetch_add(1000); };
  std::unique_ptr<Ledger> l;
  REQUIRE(Ledger::Open((dir / "data").string(), o, &l).ok());
  AppendResult r;
  for (int i = 0; i < 100; ++i) REQUIRE(l->Append(Events(i * 2, 2), &r).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // zeros prepared meanwhile
  uint64_t live = 0;
  for (const auto& e : fs::directory_iterator(dir / "data")) {
    if (e.path().extension() == ".log") live = std::max<uint64_t>(live, e.file_size());
  }
  CHECK(live > (1u << 20));  // the live WAL holds its records and a chunk of zeros

  BackupResult b;
  ocop::Status s = BackupLedger(l.get(), (dir / "backup").string(), BackupOptions(), &b);
  INFO(s.ToString());
  REQUIRE(s.ok());
  uint64_t copied = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "backup" / "engine")) {
    if (e.is_regular_file() && e.path().extension() == ".log") copied += e.file_size();
  }
  CHECK(copied > 0);
  CHECK(copied < (256u << 10));  // 200 events' records, none of the zeros
  l.reset();

  RestoreResult restored;
  s = RestoreLedger((dir / "backup").string(), 0, (dir / "restored").string(), o, &restored);
  INFO(s.ToString());
  REQUIRE(s.ok());  // opened under kAbsoluteConsistency, every event verified
  CHECK(restored.events == 200);
  fs::remove_all(dir);
}
