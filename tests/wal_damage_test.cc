// The ledger never forgets what it signed: a damaged write-ahead log (one
// flipped byte, a truncation) after acknowledged appends, or a log older
// than the heads it signed, is refused at open and by `ocop verify`, naming
// both sizes, and never silently cut short.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_support.h"

namespace fs = std::filesystem;
using ocop::testing::DataDir;
using ocop::testing::Shell;

namespace {

// `ocop ARGS` with its stderr kept in `err`.
ocop::testing::Run OcopErr(const DataDir& d, const std::string& args, std::string* err) {
  const std::string err_file = d.File("stderr");
  auto r = Shell(std::string(OCOP_BINARY) + " " + d.flag() + " " + args + " 2> " + err_file);
  std::ifstream f(err_file);
  err->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return r;
}

// Appends `n` events and signs a head of the whole log (`ocop smoke` does
// both, in one process); returns its size. The events stay in the WAL until
// the next open, whose recovery moves them into tables.
uint64_t AppendAndSign(const DataDir& d, int n) {
  std::string err;
  auto r = OcopErr(d, "smoke --events " + std::to_string(n), &err);
  INFO(err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out)["tree_head"]["size"].get<uint64_t>();
}

// The WAL holding the last appends: the largest.
fs::path TheWal(const DataDir& d) {
  fs::path wal;
  for (const auto& e : fs::directory_iterator(d.path)) {
    if (e.path().extension() == ".log" && (wal.empty() || e.file_size() > fs::file_size(wal))) {
      wal = e.path();
    }
  }
  REQUIRE(!wal.empty());
  REQUIRE(fs::file_size(wal) > 10000);
  return wal;
}

// Where to cut `wal` so that it ends inside its last logical record: 100
// bytes before the end of that record's first physical fragment (RocksDB's
// 32 KiB blocks of records with 7-byte headers, ledger/log_format.h). A cut
// inside a later fragment, after whole first ones, is what a write torn by a
// kill leaves, and is cut back at open (ledger/torn_tail.h); which of the two
// `size - 100` met depended on where the last record's block boundary fell.
uint64_t InsideLastRecord(const fs::path& wal) {
  std::ifstream f(wal, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint64_t at = 0, first_end = 0;
  while (at + 7 <= bytes.size()) {
    if (32768 - at % 32768 < 7) {  // a block's tail too short for a header
      at += 32768 - at % 32768;
      continue;
    }
    const uint64_t length =
        static_cast<uint8_t>(bytes[at + 4]) | (static_cast<uint8_t>(bytes[at + 5]) << 8);
    const uint8_t type = static_cast<uint8_t>(bytes[at + 6]);
    if (type == 0 || at + 7 + length > bytes.size()) break;   // zeros prepared ahead
    if (type == 1 || type == 2) first_end = at + 7 + length;  // FULL or FIRST
    at += 7 + length;
  }
  REQUIRE(first_end > 200);
  uint64_t cut = first_end - 100;
  if (cut % 512 == 0) ++cut;  // not on a sector boundary either
  return cut;
}

// Both the open (any subcommand) and verify refuse, exit 3, naming the
// signed size and the size found.
void RequireRefused(const DataDir& d, uint64_t signed_size, const std::string& found) {
  for (const char* cmd : {"tree-head", "verify", "submit --as x /dev/null"}) {
    std::string err;
    auto r = OcopErr(d, cmd, &err);
    INFO(cmd << ": " << err);
    CHECK(r.code == 3);
    CHECK(err.find(std::to_string(signed_size)) != std::string::npos);
    CHECK(err.find(found) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("a flipped byte in the WAL after acknowledged appends is refused, naming both sizes") {
  DataDir d("wal-flip");
  AppendAndSign(d, 300);
  const uint64_t signed_size = AppendAndSign(d, 300);
  REQUIRE(signed_size == 600);
  fs::path wal = TheWal(d);
  const auto size = fs::file_size(wal);
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put(static_cast<char>(c ^ 0x10));
  }
  RequireRefused(d, signed_size, "readable up to event ");
  // Nothing was changed: the WAL is as damaged as before, not cut.
  CHECK(fs::file_size(wal) == size);
}

TEST_CASE("a truncated WAL after acknowledged appends is refused, naming both sizes") {
  DataDir d("wal-cut");
  const uint64_t signed_size = AppendAndSign(d, 500);
  fs::path wal = TheWal(d);
  fs::resize_file(wal, InsideLastRecord(wal));
  RequireRefused(d, signed_size, "readable up to event ");
}

TEST_CASE("a log shorter than a head it signed (an old copy put back) is refused") {
  DataDir d("wal-old");
  AppendAndSign(d, 200);
  REQUIRE(Shell("cp -a " + d.path.string() + " " + d.File("old")).code == 0);
  const uint64_t signed_size = AppendAndSign(d, 200);
  REQUIRE(signed_size == 400);
  // The old copy of the log beside the record of what was signed since:
  // what a WAL cut exactly on a record boundary looks like (no RocksDB
  // recovery mode can see that one).
  fs::copy_file(d.path / "signed-heads", fs::path(d.File("old")) / "signed-heads",
                fs::copy_options::overwrite_existing);
  std::string err;
  auto r = Shell(std::string(OCOP_BINARY) + " --data " + d.File("old") + " tree-head 2> " +
                 d.File("err"));
  std::ifstream f(d.File("err"));
  err.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  INFO(err);
  CHECK(r.code == 3);
  CHECK(err.find("holds 200 events") != std::string::npos);
  CHECK(err.find("size 400") != std::string::npos);
  auto v = Shell(std::string(OCOP_BINARY) + " --data " + d.File("old") + " verify 2> /dev/null");
  CHECK(v.code == 1);
  auto j = nlohmann::json::parse(v.out);
  CHECK(j["ok"] == false);
  CHECK(j["first_bad_seq"] == 201);
  CHECK(j["problem"].get<std::string>().find("size 400") != std::string::npos);
  // The intact directory still opens and verifies.
  CHECK(OcopErr(d, "verify", &err).code == 0);
}

TEST_CASE("a signed-heads record that does not parse is refused, not ignored") {
  DataDir d("wal-heads");
  AppendAndSign(d, 10);
  std::ofstream(d.path / "signed-heads", std::ios::app) << "garbage\n";
  std::string err;
  auto r = OcopErr(d, "tree-head", &err);
  INFO(err);
  CHECK(r.code == 3);
  CHECK(err.find("signed-heads:2") != std::string::npos);
}
