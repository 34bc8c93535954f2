// The WAL files of ledger/wal_file.h: records written over zeros prepared
// ahead of them read back whole, zeros never land on a record, and a closed
// file is cut back to its records.
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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
  auto fs = ocop::ledger::PreparedWalEnv()->GetFileSystem();
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

  // As a crash would leave it: the records, then zeros.
  std::string live = ReadAll(wal);
  REQUIRE(live.size() >= expected.size());
  REQUIRE(live.compare(0, expected.size(), expected) == 0);
  CHECK(live.find_first_not_of('\0', expected.size()) == std::string::npos);

  // Closed: exactly the records, as RocksDB's own files.
  REQUIRE(f->Close(rocksdb::IOOptions(), nullptr).ok());
  CHECK(ReadAll(wal) == expected);

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
