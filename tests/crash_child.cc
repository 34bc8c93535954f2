// The victim of crash_test: appends from several threads under load to the
// ledger at argv[1], printing "ack BATCH FIRST_SEQ COUNT" only after Append
// returned, until it is killed. Each event carries its batch id, its index in
// the batch and the batch's size, so the parent can tell a partial batch;
// even batches carry the idempotency key "batch-BATCH".
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ledger/event.capnp.h"
#include "ledger/ledger.h"

using namespace ocop::ledger;

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  Options o;
  std::atomic<int64_t> clock{1700000000000000};
  o.clock = [&] { return clock.fetch_add(1); };
  std::unique_ptr<Ledger> l;
  if (!Ledger::Open(argv[1], o, &l).ok()) return 3;
  const uint64_t run = std::stoull(argv[2]);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(run * 100 + t);
      for (uint64_t n = 0;; ++n) {
        uint64_t batch = run * 1000000000ull + t * 10000000ull + n;
        int count = 1 + static_cast<int>(rng() % 30);
        AppendRequest req;
        for (int i = 0; i < count; ++i) {
          NewEvent e;
          // Several streams per batch: multi-stream atomicity is tested too.
          e.stream = "crash/" + std::to_string(t) + "/" + std::to_string(rng() % 4);
          e.type = "Batch";
          e.effective = "2024-01-01";
          e.actor = {std::to_string(batch), std::to_string(i), std::to_string(count)};
          capnp::MallocMessageBuilder m;
          m.initRoot<schema::Actor>().setPrincipal(std::string(100, 'x'));
          auto flat = capnp::messageToFlatArray(m);
          e.payload.assign(reinterpret_cast<const char*>(flat.asBytes().begin()),
                           flat.asBytes().size());
          req.events.push_back(std::move(e));
        }
        // Every other batch with an idempotency key, which the parent looks
        // up after each kill.
        if (batch % 2 == 0) req.idempotency_key = "batch-" + std::to_string(batch);
        AppendResult r;
        if (!l->Append(req, &r).ok()) return;
        char line[96];
        int len = std::snprintf(line, sizeof line, "ack %llu %llu %d\n",
                                static_cast<unsigned long long>(batch),
                                static_cast<unsigned long long>(r.seqs.front()), count);
        if (write(1, line, static_cast<size_t>(len)) != len)
          return;  // one write: never interleaved
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}
