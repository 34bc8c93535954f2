// vm_costs: what the machine charges for the kernel's services a request
// uses, each measured alone, so that a profile's kernel time can be read in
// events a request (issue 18, eighth session: on the project's 2-core VMs a
// first touch of a page costs as much CPU as a dozen syscalls).
//
//   vm_costs [--pages N] [--calls N] [--trips N]
//
// Prints one line each:
//   syscall        getppid(2), the cheapest round trip into the kernel
//   stat           stat(2) of a path (as a tokens file is checked)
//   write_150      write(2) of a 150-byte line to a file (a request's log line)
//   page_fault     the first write to a fresh 4 KiB page of anonymous memory
//   page_reused    a write to a page already touched (the baseline)
//   wake_round     a pipe round trip between two threads (two wake-ups, four
//                  syscalls), as a request handed to another thread and back
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

double NowNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Print(const char* what, double ns, const char* note) {
  std::printf("vm_costs %-14s ns=%.0f  # %s\n", what, ns, note);
}

}  // namespace

int main(int argc, char** argv) {
  size_t pages = 100000, calls = 200000, trips = 50000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--pages")
      pages = v;
    else if (flag == "--calls")
      calls = v;
    else if (flag == "--trips")
      trips = v;
    else {
      std::fprintf(stderr, "usage: vm_costs [--pages N] [--calls N] [--trips N]\n");
      return 2;
    }
  }

  double t = NowNs();
  for (size_t i = 0; i < calls; ++i) syscall(SYS_getppid);
  Print("syscall", (NowNs() - t) / calls, "getppid(2)");

  struct stat st;
  t = NowNs();
  for (size_t i = 0; i < calls; ++i) stat("/proc/self/exe", &st);
  Print("stat", (NowNs() - t) / calls, "stat(2) of a path");

  char path[] = "/tmp/vm_costs.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  unlink(path);
  char line[150];
  std::memset(line, 'x', sizeof line);
  line[149] = '\n';
  t = NowNs();
  for (size_t i = 0; i < calls; ++i) {
    if (write(fd, line, sizeof line) != static_cast<ssize_t>(sizeof line)) return 1;
  }
  Print("write_150", (NowNs() - t) / calls, "write(2) of a 150-byte line to a file");
  close(fd);

  const size_t bytes = pages * 4096;
  auto* mem = static_cast<volatile char*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) return 1;
  t = NowNs();
  for (size_t i = 0; i < pages; ++i) mem[i * 4096] = 1;
  Print("page_fault", (NowNs() - t) / pages, "first write to a fresh 4 KiB page");
  t = NowNs();
  for (size_t i = 0; i < pages; ++i) mem[i * 4096] = 2;
  Print("page_reused", (NowNs() - t) / pages, "write to a page already touched");
  munmap(const_cast<char*>(mem), bytes);

  int ping[2], pong[2];
  if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
  std::thread echo([&] {
    char c;
    for (size_t i = 0; i < trips; ++i) {
      if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) return;
    }
  });
  char c = 'x';
  t = NowNs();
  for (size_t i = 0; i < trips; ++i) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) return 1;
  }
  Print("wake_round", (NowNs() - t) / trips,
        "pipe round trip between two threads: two wake-ups, four syscalls");
  echo.join();
  return 0;
}
