// Backup and restore (issue 17, item 2), with the real binary:
//  * a backup taken through a running server under load restores, and every
//    read model folded from the restored log has the digest of the original's
//    folded to the same size; a second backup copies only what is new;
//  * a damaged backup is refused (exit 1) naming what is wrong, and nothing
//    is left where it would have been restored;
//  * SIGKILL during a backup leaves the data directory and the backups
//    finished before it intact.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_support.h"
#include "http_support.h"
#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ocop::testing::Run;

namespace {

Run Ocop(const std::string& args) { return ocop::testing::Ocop("backup", args, ""); }
// With stderr, for the messages people read.
Run OcopAll(const std::string& args) {
  return ocop::testing::Shell(std::string(OCOP_BINARY) + " " + args + " 2>&1 </dev/null");
}

pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(OCOP_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execv(OCOP_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

bool Healthy(int port) {
  std::string reply;
  return ocop::testing::Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &reply) == 200;
}

int Post(int port, const std::string& token, const std::string& body) {
  std::string reply;
  return ocop::testing::Exchange(
      port,
      "POST /v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body,
      &reply);
}

// The projections of the ledger in `data` folded up to `size`, in a scratch
// directory: what a restore of a backup of that size must give.
std::map<std::string, std::string> DigestsAt(const std::string& data, uint64_t size) {
  ocop::ledger::Options o;
  o.create_if_missing = false;
  o.clock = [] { return int64_t{0}; };
  std::unique_ptr<ocop::ledger::Ledger> l;
  REQUIRE(ocop::ledger::Ledger::Open(data, o, &l).ok());
  std::unique_ptr<ocop::projections::Projections> p;
  const std::string scratch = data + "-fold";
  REQUIRE(ocop::projections::Projections::OpenAt(l.get(), scratch, &p).ok());
  REQUIRE(p->CatchUp({}, size).ok());
  REQUIRE(p->checkpoint() == size);
  std::map<std::string, std::string> d;
  REQUIRE(p->Digests(&d).ok());
  return d;
}

}  // namespace

TEST_CASE("a backup taken through the server under load restores with the same read models") {
  ocop::testing::DataDir d("backup-load");
  const std::string data = d.path.string(), backups = d.File("backups");
  const int port = ocop::testing::FreePort();
  pid_t server = Spawn({"--data", data, "demo", "--listen", "127.0.0.1:" + std::to_string(port)});
  ocop::testing::ChildGuard guard(server);
  for (int i = 0; i < 600 && !Healthy(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(Healthy(port));
  std::string token = Ocop("--data " + data + " token add vpdp.camau").out;
  token.erase(token.find_last_not_of('\n') + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the server rereads its tokens

  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::thread load([&] {
    for (int i = 0; !stop; ++i) {
      std::string s = "LOAD" + std::to_string(i);
      if (Post(port, token,
               R"([{"type":"RegisterSubject","effective":"2026-06-01","subject":")" + s +
                   R"(","name":"HTX )" + s + R"(","legal_form":"HTX","unit":"CM"},)" +
                   R"({"type":"RegisterIdea","effective":"2026-06-02","product":"P)" + s +
                   R"(","subject":")" + s +
                   R"(","name":"Mật ong","group":1,"unit":"CM","cycle_year":2026}])") == 200)
        ++accepted;
    }
  });
  while (accepted < 20) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Run first = Ocop("--data " + data + " backup --to " + backups);
  while (accepted < 60) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Run second = Ocop("--data " + data + " backup --to " + backups);
  stop = true;
  load.join();
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  guard.release();

  REQUIRE(first.code == 0);
  REQUIRE(second.code == 0);
  json b1 = json::parse(first.out), b2 = json::parse(second.out);
  CHECK(b1["backup"] == 1);
  CHECK(b2["backup"] == 2);
  CHECK(b2["size"].get<uint64_t>() > b1["size"].get<uint64_t>());
  // Incremental: the second copies only files the first did not hold. How
  // much that is depends on what RocksDB flushed and compacted between the two
  // under this load (a compaction rewrites files the first had copied; at a
  // load of 12 it was once more than half), so what can be required is that
  // the files the first copied and that are still live are not copied again.
  CHECK(b2["bytes_new"].get<uint64_t>() < b2["bytes_total"].get<uint64_t>());

  for (int id : {1, 2}) {
    INFO("backup " << id);
    const std::string restored = d.File("restored-" + std::to_string(id));
    Run r =
        Ocop("restore --from " + backups + " --backup " + std::to_string(id) + " --to " + restored);
    REQUIRE(r.code == 0);
    json out = json::parse(r.out);
    const uint64_t events = out["events"].get<uint64_t>();
    CHECK(events >= (id == 1 ? b1 : b2)["size"].get<uint64_t>());
    CHECK(out["head"]["root"] == (id == 1 ? b1 : b2)["root"]);
    std::map<std::string, std::string> expected = DigestsAt(data, events);
    CHECK(expected.size() >= 9);
    for (const auto& [family, digest] : expected) {
      INFO(family);
      CHECK(out["projections"][family] == digest);
    }
    // The restored directory is a ledger like the original at that size.
    CHECK(Ocop("--data " + restored + " verify").code == 0);
    CHECK(Ocop("--data " + restored + " tree-head").out ==
          Ocop("--data " + data + " tree-head --size " + std::to_string(events)).out);
    CHECK(fs::status(restored + "/signing-key.pem").permissions() ==
          (fs::perms::owner_read | fs::perms::owner_write));
  }
}

TEST_CASE("a damaged backup is refused, naming what is wrong, and nothing is restored") {
  ocop::testing::DataDir d("backup-damage");
  const std::string data = d.path.string(), backups = d.File("backups");
  REQUIRE(Ocop("--data " + data + " smoke --events 3000").code == 0);
  REQUIRE(Ocop("--data " + data + " backup --to " + backups).code == 0);
  REQUIRE(Ocop("restore --from " + backups + " --to " + d.File("good")).code == 0);

  auto damaged = [&](const std::string& name) {
    std::string copy = d.File(name);
    fs::copy(backups, copy, fs::copy_options::recursive);
    return copy;
  };
  auto refused = [&](const std::string& from, const std::string& expect) {
    std::string target = from + "-restored";
    Run r = OcopAll("restore --from " + from + " --to " + target);
    INFO(r.out);
    CHECK(r.code == 1);
    CHECK(r.out.find(expect) != std::string::npos);
    CHECK(!fs::exists(target));
  };

  SECTION("a flipped byte in a table file") {
    std::string b = damaged("flipped");
    std::string sst;
    for (const auto& e : fs::recursive_directory_iterator(b + "/engine"))
      if (e.path().extension() == ".sst" && e.file_size() > 100) sst = e.path().string();
    REQUIRE(!sst.empty());
    std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(sst) / 2));
    char c;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(fs::file_size(sst) / 2));
    c = static_cast<char>(c ^ 0x40);
    f.write(&c, 1);
    f.close();
    refused(b, fs::path(sst).filename().string());
  }
  SECTION("a head that was not signed") {
    std::string b = damaged("forged");
    std::string head;
    {
      std::ifstream f(b + "/files/1/head.json");
      std::getline(f, head);
    }
    size_t at = head.find("\"root\":\"") + 8;
    head[at] = head[at] == '0' ? '1' : '0';
    std::ofstream(b + "/files/1/head.json") << head << "\n";
    refused(b, "signature of its head");
  }
  SECTION("another ledger's key") {
    std::string b = damaged("rekeyed");
    ocop::testing::DataDir other("backup-other");
    REQUIRE(Ocop(other.flag() + " smoke --events 10").code == 0);
    fs::copy_file(other.path / "signing-key.pem", b + "/files/1/signing-key.pem",
                  fs::copy_options::overwrite_existing);
    refused(b, "does not verify");
  }
  SECTION("a missing table file") {
    std::string b = damaged("missing");
    for (const auto& e : fs::recursive_directory_iterator(b + "/engine")) {
      if (e.path().extension() == ".sst") {
        fs::remove(e.path());
        break;
      }
    }
    refused(b, "damaged");
  }
}

TEST_CASE("SIGKILL during a backup leaves the data and the finished backups intact") {
  ocop::testing::DataDir d("backup-kill");
  const std::string data = d.path.string(), backups = d.File("backups");
  REQUIRE(Ocop("--data " + data + " smoke --events 60000").code == 0);
  Run first = Ocop("--data " + data + " backup --to " + backups);
  REQUIRE(first.code == 0);
  const std::string root1 = json::parse(first.out)["root"];
  REQUIRE(Ocop("--data " + data + " smoke --events 60000").code == 0);

  // At 1 MiB/s the copy of the new files takes seconds: killed inside it.
  for (int ms : {50, 400, 1200}) {
    INFO("killed after " << ms << " ms");
    pid_t b = Spawn({"--data", data, "backup", "--to", backups, "--rate-mb", "1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    kill(b, SIGKILL);
    int status = 0;
    waitpid(b, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    CHECK(Ocop("--data " + data + " verify").code == 0);
    const std::string restored = d.File("after-kill-" + std::to_string(ms));
    Run r = Ocop("restore --from " + backups + " --backup 1 --to " + restored);
    REQUIRE(r.code == 0);
    CHECK(json::parse(r.out)["head"]["root"] == root1);
  }
  // The next backup completes and restores the whole log.
  Run last = Ocop("--data " + data + " backup --to " + backups);
  REQUIRE(last.code == 0);
  CHECK(json::parse(last.out)["size"] == 120000);
  Run r = Ocop("restore --from " + backups + " --to " + d.File("latest"));
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out)["events"] == 120000);
}
