// Crash durability: a child process appends under load and is killed with
// SIGKILL at random moments, 24 times on the same directory. After each
// reopen: every acknowledged event is present where it was acknowledged, an
// acknowledged batch's idempotency key names it, no batch is partial,
// sequence numbers and stream versions have no gaps, and verify passes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "ledger/event_view.h"
#include "ledger/ledger.h"

namespace fs = std::filesystem;
using namespace ocop::ledger;

namespace {

struct Ack {
  uint64_t first;
  int count;
};

// Runs the child until `ms` milliseconds after its first acknowledged append,
// then SIGKILLs it; returns its acks.
std::map<uint64_t, Ack> RunAndKill(const std::string& dir, int run, int ms) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(CRASH_CHILD, CRASH_CHILD, dir.c_str(), std::to_string(run).c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  // The moment counts from the child's first acknowledgement, not from the
  // fork: on a loaded machine opening the ledger alone can take longer than
  // the whole window, and the kill would then land before any append.
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(30);  // for the first ack
  bool started = false;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 5) > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) out.append(buf, static_cast<size_t>(n));
      if (n == 0) break;  // the child is gone; the checks below say why
    }
    if (!started && out.find('\n') != std::string::npos) {
      started = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    }
  }
  kill(pid, SIGKILL);
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));  // it was killed mid-work, not finished or failed
  std::map<uint64_t, Ack> acks;
  std::istringstream lines(out);
  std::string word;
  uint64_t batch, first;
  int count;
  while (lines >> word >> batch >> first >> count) {
    REQUIRE(word == "ack");
    acks[batch] = Ack{first, count};
  }
  return acks;
}

}  // namespace

TEST_CASE("acknowledged appends survive SIGKILL, whole and in order") {
  fs::path dir = fs::temp_directory_path() / ("ocop-crash-" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::mt19937 rng(20261123);  // deterministic moments
  std::map<uint64_t, Ack> all_acks;
  const int kKills = 24;
  for (int run = 1; run <= kKills; ++run) {
    int ms = 30 + static_cast<int>(rng() % 250);
    auto acks = RunAndKill(dir.string(), run, ms);
    all_acks.insert(acks.begin(), acks.end());
    INFO("run " << run << " killed after " << ms << " ms with " << acks.size() << " acks");

    Options o;
    o.clock = [] { return int64_t{1}; };
    std::unique_ptr<Ledger> l;
    ocop::Status opened = Ledger::Open(dir.string(), o, &l);
    INFO(opened.ToString());  // why it would not open, if it would not
    REQUIRE(opened.ok());
    // Every acknowledged batch is where it was acknowledged.
    for (const auto& [batch, ack] : all_acks) {
      for (int i = 0; i < ack.count; ++i) {
        std::string bytes;
        REQUIRE(l->Get(ack.first + static_cast<uint64_t>(i), &bytes).ok());
        EventView v(bytes);
        REQUIRE(v.ok());
        REQUIRE(std::stoull(v.event().getActor().getPrincipal().cStr()) == batch);
        REQUIRE(std::stoi(v.event().getActor().getRole().cStr()) == i);
      }
      // Its idempotency key, if it had one, names it.
      if (batch % 2 == 0) {
        std::string digest;
        std::vector<uint64_t> seqs;
        REQUIRE(l->FindIdempotencyKey("batch-" + std::to_string(batch), &digest, &seqs).ok());
        REQUIRE(seqs.size() == static_cast<size_t>(ack.count));
        REQUIRE(seqs.front() == ack.first);
      }
    }
    // No batch is partial; numbers have no gaps (Scan fails on a gap).
    std::map<uint64_t, std::pair<int, int>> batches;  // batch -> (seen, declared)
    std::map<std::string, uint64_t> versions;
    uint64_t expect = 1;
    REQUIRE(l->Scan(1, 0, [&](uint64_t seq, std::string_view bytes) {
               REQUIRE(seq == expect++);
               EventView v(bytes);
               REQUIRE(v.ok());
               auto e = v.event();
               auto& b = batches[std::stoull(e.getActor().getPrincipal().cStr())];
               ++b.first;
               b.second = std::stoi(e.getActor().getUnit().cStr());
               REQUIRE(e.getVersion() == ++versions[e.getStream().cStr()]);  // versions contiguous
               return true;
             }).ok());
    REQUIRE(expect - 1 == l->Size());
    for (const auto& [batch, seen] : batches) {
      INFO("batch " << batch);
      REQUIRE(seen.first == seen.second);
    }
    VerifyResult vr;
    REQUIRE(l->Verify(&vr).ok());
    REQUIRE(vr.checked == l->Size());
  }
  CHECK(all_acks.size() > 100);  // the child really was under load
  fs::remove_all(dir);
}
