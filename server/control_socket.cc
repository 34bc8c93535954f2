#include "server/control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ocop::server {
namespace {

constexpr size_t kMaxRequest = 64 << 10;

Status Address(const std::string& dir, sockaddr_un* a, std::string* path) {
  *path = (std::filesystem::path(dir) / ControlSocket::kFileName).string();
  std::memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (path->size() >= sizeof a->sun_path) {
    return Status::InvalidArgument("the path " + *path + " is too long for a Unix socket (" +
                                   std::to_string(sizeof a->sun_path - 1) + " bytes at most)");
  }
  std::memcpy(a->sun_path, path->data(), path->size());
  return Status::OK();
}

// Reads up to a newline (or the peer's end) with a deadline per read.
bool ReadLine(int fd, std::string* line, int timeout_ms) {
  line->clear();
  char buf[4096];
  while (line->size() < kMaxRequest) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return !line->empty();
    line->append(buf, static_cast<size_t>(n));
    size_t nl = line->find('\n');
    if (nl != std::string::npos) {
      line->resize(nl);
      return true;
    }
  }
  return false;
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

Status ControlSocket::Start(const std::string& dir, Handler handler,
                            std::unique_ptr<ControlSocket>* out) {
  std::unique_ptr<ControlSocket> c(new ControlSocket());
  sockaddr_un a;
  Status s = Address(dir, &a, &c->path_);
  if (!s.ok()) return s;
  c->fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  ::unlink(c->path_.c_str());  // a killed server's; the data directory's lock is ours
  mode_t old = ::umask(077);
  int b = ::bind(c->fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::umask(old);
  if (b != 0 || ::listen(c->fd_, 8) != 0) {
    return Status::IOError("cannot listen on " + c->path_ + ": " + std::strerror(errno));
  }
  c->handler_ = std::move(handler);
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  *out = std::move(c);
  return Status::OK();
}

ControlSocket::~ControlSocket() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void ControlSocket::Run() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    std::string request;
    if (ReadLine(conn, &request, 5000)) WriteAll(conn, handler_(request) + "\n");
    ::close(conn);
  }
}

Status ControlSocket::Ask(const std::string& dir, const std::string& request, std::string* reply) {
  sockaddr_un a;
  std::string path;
  Status s = Address(dir, &a, &path);
  if (!s.ok()) return s;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int e = errno;
    ::close(fd);
    return Status::NotFound("no process answers on " + path + " (" + std::strerror(e) + ")");
  }
  WriteAll(fd, request + "\n");
  // A backup of a large ledger takes minutes: wait for it (no deadline but
  // the server's going away, which ends the connection).
  bool got = ReadLine(fd, reply, -1);
  ::close(fd);
  if (!got) return Status::IOError("the process on " + path + " closed without answering");
  return Status::OK();
}

}  // namespace ocop::server
