// Tiles (c2sp.org/tlog-tiles): the log as static files that a mirror or a CDN
// can serve and a client checks against a checkpoint.
//
//   tile/<L>/<N>[.p/<W>]        the hashes of the nodes at tree level 8L, indices
//                               256N .. 256N+W-1 (W = 256 for a full tile), 32 bytes each
//   tile/entries/<N>[.p/<W>]    events 256N+1 .. 256N+W, each as a big-endian
//                               uint16 length and the stored bytes
//
// <N> is written in groups of three digits, all but the last with an 'x'
// (1234067 is x001/x234/067). A full tile never changes; a partial one grows
// into wider ones, each of which never changes either, so every tile may be
// cached forever.
//
// How the hashes are found. The ledger keeps the log's complete subtrees, but
// behind its own interface; tiles need only those of heights 0, 8, 16, ...
// Height 0 is a leaf hash (a tile of 256 is one scan of 256 events). Height 8
// is kept here, in memory, for every complete group of 256 events, computed
// once from one scan of them (32 bytes per 256 events: 1.25 MB for ten
// million events); heights 16 and up are combined from it. Nothing here is on
// the append path.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.h"

namespace ocop::ledger {

class Tiles {
 public:
  explicit Tiles(Ledger* ledger) : ledger_(ledger) {}

  // `path` is what follows "tile/". InvalidArgument for a path that is not a
  // tile's; NotFound for a tile the log (at its current size) does not hold.
  Status Get(std::string_view path, std::string* bytes);

 private:
  Status Node(int height, uint64_t index, merkle::Hash* out);
  Status Group(uint64_t index, merkle::Hash* out);  // height 8, cached

  Ledger* ledger_;
  std::mutex mu_;
  std::vector<merkle::Hash> groups_;  // height-8 nodes 0, 1, 2, ...
};

}  // namespace ocop::ledger
