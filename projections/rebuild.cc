// Rebuild: drop every read model and refold the whole log, fast.
#include "projections/projections.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <bit>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "ledger/event_view.h"
#include "ledger/keys.h"
#include "projections/id_index.h"
#include "projections/records.h"
#include "projections/sorted_run.h"
#include "workflow/decide.h"
#include "workflow/stream_fold.h"

#include "projections/keys.h"
#include "projections/projections_internal.h"

namespace ocop::projections {
namespace fs = std::filesystem;

Status Projections::Rebuild(const Progress& progress) {
  CloseDb();
  Status s = OpenDb(true, /*bulk=*/true);
  if (s.ok()) s = FoldAll(progress);
  // Back to the options of normal use (a failed fold leaves the marker, so
  // this open starts again from an empty directory).
  CloseDb();
  Status o = OpenDb(false);
  return s.ok() ? o : s;
}

// The rebuild's fold: one thread reads the log (RocksDB iteration and
// decompression) while this one folds, the events handed over in chunks.
// Each event is copied to an 8-byte boundary so that reading it needs no
// second copy.
Status Projections::FoldAll(const Progress& progress) {
  const uint64_t total = ledger_->Size();
  // Before any thread starts: no early return may leave one joinable.
  std::error_code ec;
  fs::create_directories(RunsDir(), ec);
  if (ec) return Status::IOError("cannot create " + RunsDir() + ": " + ec.message());
  struct Chunk {
    std::string data;
    std::vector<std::pair<uint64_t, std::pair<size_t, size_t>>> events;  // seq, offset, size
  };
  constexpr size_t kChunkEvents = 8192, kMaxChunks = 8;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  // Chunks folded, emptied for the reader to fill again: their memory is
  // reused rather than faulted in afresh for every chunk.
  std::vector<Chunk> spare;
  bool reader_done = false, stop = false;
  Status read_status;
  std::thread reader([&] {
    Chunk chunk;
    auto push = [&] {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return queue.size() < kMaxChunks || stop; });
      if (stop) return false;
      queue.push_back(std::move(chunk));
      chunk = Chunk();
      if (!spare.empty()) {
        chunk = std::move(spare.back());
        spare.pop_back();
      }
      cv.notify_all();
      return true;
    };
    Status s = ledger_->Scan(1, total, [&](uint64_t seq, std::string_view bytes) {
      if (chunk.events.empty()) chunk.data.reserve(kChunkEvents * 512);
      size_t at = (chunk.data.size() + 7) & ~size_t{7};
      chunk.data.resize(at);
      chunk.data.append(bytes);
      chunk.events.push_back({seq, {at, bytes.size()}});
      return chunk.events.size() < kChunkEvents || push();
    });
    if (s.ok() && !chunk.events.empty()) push();
    std::lock_guard<std::mutex> l(mu);
    read_status = s;
    reader_done = true;
    cv.notify_all();
  });

  // And a third writes what the fold queued, so that folding goes on
  // meanwhile: fact versions into the memtables, each run of changes sorted
  // into a table file of its own, ingested at the end. At most two spills
  // wait (memory stays bounded); emptied runs come back to be refilled.
  struct Spill {
    rocksdb::WriteBatch writes;
    SortedRun changes;
  };
  std::mutex write_mu;
  std::condition_variable write_cv;
  std::deque<Spill> to_write;
  std::vector<SortedRun> spare_runs;
  std::vector<std::string> tables;
  bool folding_done = false;
  Status write_status;
  const rocksdb::Options change_options = db_->GetOptions(changes_);
  std::thread writer([&] {
    for (;;) {
      Spill spill;
      {
        std::unique_lock<std::mutex> l(write_mu);
        write_cv.wait(l, [&] { return !to_write.empty() || folding_done; });
        if (to_write.empty()) return;
        spill = std::move(to_write.front());
        to_write.pop_front();
        write_cv.notify_all();
      }
      Status st = WriteWithoutWal(&spill.writes);
      std::string table;
      if (st.ok() && !spill.changes.empty()) {
        char name[32];
        std::snprintf(name, sizeof name, "changes-%06zu.sst", tables.size());
        table = (fs::path(RunsDir()) / name).string();
        st = spill.changes.WriteTable(change_options, changes_, table);
        spill.changes.Clear();
      }
      std::lock_guard<std::mutex> l(write_mu);
      if (!table.empty()) tables.push_back(table);
      spare_runs.push_back(std::move(spill.changes));
      if (!st.ok() && write_status.ok()) write_status = st;
    }
  });
  auto hand_over = [&](Batch* b) {
    std::unique_lock<std::mutex> l(write_mu);
    write_cv.wait(l, [&] { return to_write.size() < 2; });
    to_write.push_back(Spill{std::move(b->writes), std::move(b->changes)});
    b->writes = rocksdb::WriteBatch();
    b->changes = SortedRun();
    if (!spare_runs.empty()) {
      b->changes = std::move(spare_runs.back());
      spare_runs.pop_back();
    }
    write_cv.notify_all();
    return write_status;
  };

  Batch batch;
  batch.bulk = true;
  Status failure;
  uint64_t last = 0, reported = 0;
  Chunk chunk;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu);
      if (!chunk.events.empty()) {
        chunk.data.clear();
        chunk.events.clear();
        spare.push_back(std::move(chunk));
      }
      cv.wait(l, [&] { return !queue.empty() || reader_done; });
      if (queue.empty()) break;
      chunk = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    for (const auto& [seq, span] : chunk.events) {
      failure = Apply(seq, std::string_view(chunk.data).substr(span.first, span.second), &batch);
      if (!failure.ok()) break;
      last = seq;
      if (batch.writes.GetDataSize() >= kSpillBytes || batch.changes.bytes() >= run_bytes_) {
        failure = hand_over(&batch);
        if (!failure.ok()) break;
      }
    }
    if (!failure.ok()) break;
    if (progress && last - reported >= 1000000) {
      progress(last, total);
      reported = last;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
    cv.notify_all();
  }
  reader.join();
  if (failure.ok()) failure = hand_over(&batch);  // the last run of changes
  {
    std::lock_guard<std::mutex> l(write_mu);
    folding_done = true;
    write_cv.notify_all();
  }
  writer.join();  // it writes what is queued first
  batch.change_tables = std::move(tables);
  if (!failure.ok()) return failure;
  if (!read_status.ok()) return read_status;
  if (!write_status.ok()) return write_status;
  if (last != total) {
    return Status::Corruption("the rebuild read " + std::to_string(last) + " of " +
                              std::to_string(total) + " events");
  }
  Status s = Flush(last, &batch);
  if (s.ok() && progress) progress(last, total);
  return s;
}

}  // namespace ocop::projections
