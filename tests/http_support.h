// Raw HTTP/1.1 over a loopback socket, for the tests that talk to a running
// `ocop serve` byte for byte.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace ocop::testing {

// A connected socket (10 s receive timeout), or -1. `from`, a loopback
// address of the caller's choice (127.0.0.X), lets a test be several clients.
inline int Connect(int port, const std::string& from = "") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (!from.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends `bytes`, closes our side, and reads what comes back until the server
// closes. Returns the status code of the first response, 0 for none, or -1
// when no connection could be made.
inline int Exchange(int port, const std::string& bytes, std::string* reply) {
  reply->clear();
  int fd = Connect(port);
  if (fd < 0) return -1;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may stop reading an oversized request
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) reply->append(buf, static_cast<size_t>(n));
  close(fd);
  if (reply->rfind("HTTP/1.1 ", 0) != 0 || reply->size() < 12) return 0;
  return std::stoi(reply->substr(9, 3));
}

// Forks `binary --data DATA serve --listen 127.0.0.1:PORT` and waits up to
// 10 s for it to take a connection. Returns the child's pid once it does, or
// -1 (the child, if any, is left for the caller's REQUIRE to report).
inline pid_t StartServer(const char* binary, const std::string& data, int port) {
  pid_t server = fork();
  if (server == 0) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    execl(binary, binary, "--data", data.c_str(), "serve", "--listen", listen.c_str(), nullptr);
    _exit(127);
  }
  if (server < 0) return -1;
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int fd = Connect(port);
    if (fd >= 0) {
      close(fd);
      return server;
    }
  }
  return -1;
}

// Kills and reaps a child process left running when a test ends early (a
// failed REQUIRE), so that no server outlives its test. release() once the
// test has reaped it itself.
struct ChildGuard {
  pid_t pid;
  explicit ChildGuard(pid_t p) : pid(p) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  void release() { pid = -1; }
};

}  // namespace ocop::testing
