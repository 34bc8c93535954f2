#include "ledger/tiles.h"

namespace ocop::ledger {

using merkle::Hash;

namespace {

constexpr uint64_t kWidth = 256;

// "x001/x234/067" -> 1234067; the tile path grammar of tlog-tiles.
bool ParseIndex(std::string_view s, uint64_t* out) {
  uint64_t n = 0;
  int groups = 0;
  while (true) {
    size_t slash = s.find('/');
    std::string_view part = s.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (!last) {
      if (part.size() != 4 || part[0] != 'x') return false;
      part.remove_prefix(1);
    }
    if (part.size() != 3) return false;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
    }
    if (++groups > 7) return false;
    n = n * 1000 +
        static_cast<uint64_t>((part[0] - '0') * 100 + (part[1] - '0') * 10 + (part[2] - '0'));
    if (last) break;
    s.remove_prefix(slash + 1);
  }
  *out = n;
  return true;
}

void PutHash(const Hash& h, std::string* out) {
  out->append(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

Status Tiles::Group(uint64_t index, Hash* out) {
  std::lock_guard<std::mutex> l(mu_);
  while (groups_.size() <= index) {
    const uint64_t first = groups_.size() * kWidth + 1;
    std::vector<Hash> level;
    level.reserve(kWidth);
    Status s = ledger_->Scan(first, kWidth, [&](uint64_t, std::string_view bytes) {
      level.push_back(merkle::LeafHash(bytes));
      return true;
    });
    if (!s.ok()) return s;
    if (level.size() != kWidth) return Status::NotFound("no complete group of 256 events there");
    while (level.size() > 1) {
      for (size_t i = 0; i < level.size() / 2; ++i) {
        level[i] = merkle::NodeHash(level[2 * i], level[2 * i + 1]);
      }
      level.resize(level.size() / 2);
    }
    groups_.push_back(level[0]);
  }
  *out = groups_[index];
  return Status::OK();
}

Status Tiles::Node(int height, uint64_t index, Hash* out) {
  if (height == 0) {
    std::string bytes;
    Status s = ledger_->Get(index + 1, &bytes);
    if (s.ok()) *out = merkle::LeafHash(bytes);
    return s;
  }
  if (height == 8) return Group(index, out);
  Hash l, r;
  Status s = Node(height - 1, 2 * index, &l);
  if (s.ok()) s = Node(height - 1, 2 * index + 1, &r);
  if (s.ok()) *out = merkle::NodeHash(l, r);
  return s;
}

Status Tiles::Get(std::string_view path, std::string* bytes) {
  const auto bad = [&] {
    return Status::InvalidArgument("'tile/" + std::string(path) +
                                   "' is not a tile: tile/<L>/<N>[.p/<W>] or "
                                   "tile/entries/<N>[.p/<W>], <N> as x001/x234/067");
  };
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return bad();
  std::string_view level = path.substr(0, slash), rest = path.substr(slash + 1);
  const bool entries = level == "entries";
  int L = 0;
  if (!entries) {
    if (level.size() != 1 || level[0] < '0' || level[0] > '5') return bad();
    L = level[0] - '0';
  }
  uint64_t width = kWidth;
  size_t dot = rest.find(".p/");
  if (dot != std::string_view::npos) {
    std::string_view w = rest.substr(dot + 3);
    if (w.empty() || w.size() > 3 || w[0] == '0') return bad();
    width = 0;
    for (char c : w) {
      if (c < '0' || c > '9') return bad();
      width = width * 10 + static_cast<uint64_t>(c - '0');
    }
    if (width >= kWidth) return bad();
    rest = rest.substr(0, dot);
  }
  uint64_t n = 0;
  if (!ParseIndex(rest, &n)) return bad();
  const uint64_t size = ledger_->Size();
  // The tile exists once the log holds every node it lists.
  const int height = 8 * L;
  const uint64_t last = n * kWidth + width;  // nodes before the tile's end
  if (n > (~uint64_t{0} >> 9) || (height && last > (size >> height)) || last > size) {
    return Status::NotFound("the log of " + std::to_string(size) + " events holds no tile/" +
                            std::string(path));
  }
  bytes->clear();
  if (entries) {
    return ledger_->Scan(n * kWidth + 1, width, [&](uint64_t, std::string_view e) {
      bytes->push_back(static_cast<char>(e.size() >> 8));
      bytes->push_back(static_cast<char>(e.size() & 0xFF));
      bytes->append(e);
      return true;
    });
  }
  bytes->reserve(width * 32);
  for (uint64_t i = 0; i < width; ++i) {
    Hash h;
    Status s = Node(height, n * kWidth + i, &h);
    if (!s.ok()) return s;
    PutHash(h, bytes);
  }
  return Status::OK();
}

}  // namespace ocop::ledger
