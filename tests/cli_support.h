// Runs the real `ocop` binary as a script would, for the tests that check the
// command line from the outside (OCOP_BINARY is defined by tests/CMakeLists.txt).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace ocop::testing {

// A loopback port free at the time of asking (the kernel picks it), for a
// server a test starts. A port made from the pid could be one the kernel had
// just given another test's connection.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t n = sizeof a;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

struct Run {
  int code = -1;    // the exit code, -1 if killed by a signal
  std::string out;  // stdout; stderr goes to the test's log
};

// Runs a shell command line: its stdout and exit code.
inline Run Shell(const std::string& cmd) {
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `ocop ARGS` with `input` on stdin. `tag` keeps concurrent test
// binaries' scratch files apart.
inline Run Ocop(const std::string& tag, const std::string& args, const std::string& input) {
  namespace fs = std::filesystem;
  fs::path in = fs::temp_directory_path() / ("ocop-" + tag + "-in-" + std::to_string(getpid()));
  {
    std::ofstream f(in);
    f << input;
  }
  Run r = Shell(std::string(OCOP_BINARY) + " " + args + " < " + in.string());
  fs::remove(in);
  return r;
}

// A data directory that does not exist yet, removed with everything beside it
// named after it (File) when the test ends.
struct DataDir {
  explicit DataDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("ocop-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(rand()))) {
    std::filesystem::remove_all(path);
  }
  ~DataDir() {
    // Everything named after the directory: it, its File()s and what tests
    // derived from them ("report.json.bad").
    std::error_code ec;
    const std::string stem = path.filename().string();
    for (const auto& e : std::filesystem::directory_iterator(path.parent_path(), ec)) {
      if (e.path().filename().string().rfind(stem, 0) == 0)
        std::filesystem::remove_all(e.path(), ec);
    }
  }
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  std::string flag() const { return "--data " + path.string(); }
  // A scratch file beside the directory, removed with it.
  std::string File(const std::string& name) const { return path.string() + "-" + name; }

  std::filesystem::path path;
};

}  // namespace ocop::testing
