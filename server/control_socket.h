// ControlSocket: a Unix socket in the data directory through which the
// process holding it does, for a local operator, what needs its database
// handle (a consistent backup while serving).
//
// Why a socket in the data directory rather than an HTTP route: whoever may
// use it already may read and write the directory (the socket is mode 0600,
// the directory's owner's), as a local `ocop` command may; nothing of it is
// reachable from the network, and no token is involved.
//
// Protocol: one request line, one reply line, then the connection closes.
// Requests are handled one at a time, on the socket's own thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "ledger/status.h"

namespace ocop::server {

class ControlSocket {
 public:
  using Handler = std::function<std::string(const std::string& request)>;
  static constexpr const char* kFileName = "control.sock";

  // Listens on DIR/control.sock (replacing a stale one a killed server left).
  static Status Start(const std::string& dir, Handler handler, std::unique_ptr<ControlSocket>* out);
  ~ControlSocket();  // stops listening, joins the thread, removes the socket

  // A client: sends `request` to the process holding `dir` and reads its
  // reply. NotFound when no process listens there.
  static Status Ask(const std::string& dir, const std::string& request, std::string* reply);

 private:
  ControlSocket() = default;
  void Run();
  std::string path_;
  int fd_ = -1;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ocop::server
