#include "server/witness_pusher.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "ledger/cosignature.h"
#include "ledger/witness_protocol.h"

namespace ocop::server {

namespace note = ledger::note;

Status ParseWitnessTarget(const std::string& text, WitnessTarget* out) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    return Status::InvalidArgument("--witness must be URL=VKEY (the witness's verifier key)");
  }
  out->url = text.substr(0, eq);
  Url u;
  Status s = ParseUrl(out->url, "the witness", &u);
  if (s.ok()) s = note::ParseVerifierKey(text.substr(eq + 1), &out->key);
  if (s.ok() && out->key.type != note::kCosignatureV1) {
    s = Status::InvalidArgument("a witness's key has type 0x04 (a cosignature key)");
  }
  return s.ok() ? s : Status::InvalidArgument("--witness " + text + ": " + s.message());
}

WitnessPusher::WitnessPusher(ledger::Ledger* ledger, ledger::StreamHeads* heads, std::string origin,
                             std::vector<WitnessTarget> witnesses,
                             std::chrono::milliseconds interval)
    : ledger_(ledger),
      heads_(heads),
      origin_(std::move(origin)),
      witnesses_(std::move(witnesses)),
      sizes_(witnesses_.size(), 0),
      interval_(interval) {
  for (const auto& w : witnesses_) {
    urls_.emplace_back();
    // ParseWitnessTarget checked it when the option was read; should it still
    // fail, the target stays empty and each push to it fails, logged.
    Status parsed = ParseUrl(w.url, "the witness", &urls_.back());
    if (!parsed.ok()) spdlog::error(R"({{"witness_push":"url","error":"{}"}})", parsed.message());
  }
}

WitnessPusher::~WitnessPusher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void WitnessPusher::Start() {
  thread_ = std::thread([this] { Run(); });
}

std::string WitnessPusher::Latest() const {
  std::lock_guard<std::mutex> l(mu_);
  return latest_;
}

void WitnessPusher::Run() {
  uint64_t pushed = ~uint64_t{0};
  while (!stop_) {
    const uint64_t size =
        ledger_->WaitForAppend(pushed == ~uint64_t{0} ? 0 : pushed, std::chrono::milliseconds(200));
    if (stop_) break;
    if (size == pushed) continue;
    PushOnce();
    pushed = size;
    // At most one round per interval, however fast the log grows.
    for (auto t = std::chrono::steady_clock::now() + interval_;
         !stop_ && std::chrono::steady_clock::now() < t;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void WitnessPusher::PushOnce() {
  ledger::Checkpoint c;
  std::string signed_note;
  Status s = ledger::SignedCheckpoint(ledger_, heads_, origin_, ledger_->Size(),
                                      ledger::HeadKind::kCheckpoint, &c, &signed_note);
  note::Note n;
  if (s.ok()) s = note::ParseNote(signed_note, &n);
  if (!s.ok()) {
    spdlog::error(R"({{"witness_push":"checkpoint","error":"{}"}})", s.message());
    return;
  }
  for (size_t i = 0; i < witnesses_.size(); ++i) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ledger::AddCheckpointRequest req;
      req.old_size = std::min(sizes_[i], c.size);
      req.checkpoint = signed_note;
      if (req.old_size > 0) s = ledger_->Consistency(req.old_size, c.size, &req.proof);
      int status = 0;
      std::string answer;
      if (s.ok()) {
        s = Post(urls_[i], "/add-checkpoint", ledger::FormatAddCheckpoint(req), "text/plain", 10,
                 &status, &answer);
      }
      if (s.ok() && status == 409 && attempt == 0) {
        // The witness names its size: ask again from there.
        try {
          sizes_[i] = std::stoull(answer);
          continue;
        } catch (const std::exception&) {
        }
      }
      if (s.ok() && status != 200) {
        s = Status::Refused("answered " + std::to_string(status) + ": " + answer);
      }
      // The answer is one signature line per key; keep those of this witness
      // that verify over this checkpoint.
      bool cosigned = false;
      if (s.ok()) {
        note::Note lines;
        Status p = note::ParseNote(n.text + "\n" + answer, &lines);
        for (const auto& sig : p.ok() ? lines.signatures : std::vector<note::Signature>{}) {
          uint64_t when = 0;
          if (sig.name == witnesses_[i].key.name && sig.key_id == witnesses_[i].key.key_id &&
              note::VerifySignature(witnesses_[i].key, n.text, sig, &when).ok()) {
            n = note::AddSignature(std::move(n), sig);
            cosigned = true;
          }
        }
        if (!cosigned) s = Status::Tampered("its answer carries no valid cosignature");
      }
      if (s.ok()) {
        sizes_[i] = c.size;
        spdlog::info(R"({{"witness_push":"{}","size":{},"cosigned":true}})", witnesses_[i].url,
                     c.size);
      } else {
        spdlog::warn(R"({{"witness_push":"{}","size":{},"error":"{}"}})", witnesses_[i].url, c.size,
                     s.message());
      }
      break;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  latest_ = note::FormatNote(n);
}

}  // namespace ocop::server
