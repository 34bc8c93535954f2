// Checkpoints (c2sp.org/tlog-checkpoint) and the witness's rules
// (c2sp.org/tlog-witness): every tamper, an older checkpoint, a fork, a
// missing or wrong proof and a head of another log are refused naming the
// fault; the state survives on disk; cosigned checkpoints are checked against
// a quorum of witnesses.
#include "ledger/witness.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "ledger/cosignature.h"
#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "ledger/log_origin.h"

namespace fs = std::filesystem;
using namespace ocop::ledger;
using ocop::Status;

namespace {

// An in-memory RFC 6962 tree of leaves named by `prefix` after the first
// `shared` leaves, which every tree has in common: two trees of different
// prefixes are forks of each other after `shared`.
class Tree : public merkle::NodeReader {
 public:
  Tree(uint64_t size, uint64_t shared, const std::string& prefix) {
    for (uint64_t i = 0; i < size; ++i) {
      std::string leaf = (i < shared ? "event " : prefix + " event ") + std::to_string(i);
      frontier_.Append(merkle::LeafHash(leaf),
                       [&](int level, uint64_t index, const merkle::Hash& h) {
                         nodes_[{level, index}] = h;
                       });
      roots_.push_back(frontier_.Root());
    }
  }
  Status Node(int level, uint64_t index, merkle::Hash* out) override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return Status::NotFound("no node");
    *out = it->second;
    return Status::OK();
  }
  merkle::Hash Root(uint64_t size) const { return size ? roots_[size - 1] : merkle::EmptyRoot(); }
  ConsistencyProof Proof(uint64_t from, uint64_t to) {
    ConsistencyProof p{from, to, {}};
    REQUIRE(merkle::ConsistencyPath(*this, from, to, &p.path).ok());
    return p;
  }

 private:
  merkle::Frontier frontier_;
  std::map<std::pair<int, uint64_t>, merkle::Hash> nodes_;
  std::vector<merkle::Hash> roots_;
};

std::unique_ptr<Signer> Key(char b) {
  std::unique_ptr<Signer> s;
  REQUIRE(Signer::FromSeed(std::string(32, b), &s).ok());
  return s;
}

const std::string kOrigin = "ocop.example/ledger";

std::string B64(const merkle::Hash& h) { return ocop::Base64(std::string(h.begin(), h.end())); }

Checkpoint At(const Tree& t, uint64_t size, const std::string& origin = kOrigin) {
  return Checkpoint{origin, size, t.Root(size), {}};
}

// A fresh directory under TMPDIR, removed at the end.
struct TempDir {
  TempDir()
      : path(fs::temp_directory_path() /
             ("witness-test-" + std::to_string(getpid()) + "-" + std::to_string(rand()))) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

}  // namespace

TEST_CASE("checkpoint text round trips and malformed texts are refused") {
  Tree t(5, 5, "");
  Checkpoint c{kOrigin, 5, t.Root(5), {"extension one", "two"}};
  const std::string text = CheckpointText(c);
  CHECK(text == kOrigin + "\n5\n" + B64(c.root) + "\nextension one\ntwo\n");
  Checkpoint back;
  REQUIRE(ParseCheckpoint(text, &back).ok());
  CHECK(back.origin == c.origin);
  CHECK(back.size == 5);
  CHECK(back.root == c.root);
  CHECK(back.extensions == c.extensions);
  REQUIRE(ParseCheckpoint(CheckpointText(At(t, 0)), &back).ok());
  CHECK(back.size == 0);
  REQUIRE(ParseCheckpoint("o\n18446744073709551615\n" + B64(c.root) + "\n", &back).ok());
  CHECK(back.size == UINT64_MAX);

  const std::string root = B64(c.root);
  struct Case {
    std::string text, why;
  } cases[] = {
      {kOrigin + "\n5\n", "it has 2 lines"},
      {"\n5\n" + root + "\n", "origin (line 1) is empty"},
      {kOrigin + "\n05\n" + root + "\n", "without leading zeroes"},
      {kOrigin + "\n-5\n" + root + "\n", "not a decimal number"},
      {kOrigin + "\n\n" + root + "\n", "not a decimal number"},
      {kOrigin + "\n18446744073709551616\n" + root + "\n", "too large"},
      {kOrigin + "\n5\n" + root.substr(0, 40) + "\n", "root hash (line 3)"},
      {kOrigin + "\n5\n" + ocop::Base64(std::string(31, 'x')) + "\n", "base64 of 32 bytes"},
      {kOrigin + "\n5\n" + root + "\n\nx\n", "extension line 4 is empty"},
      {kOrigin + "\n5\n" + root, "does not end with a newline"},
  };
  for (const auto& k : cases) {
    INFO(k.text);
    Status s = ParseCheckpoint(k.text, &back);
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::StartsWith("not a checkpoint") && Catch::Contains(k.why));
  }
}

TEST_CASE("a signed checkpoint opens with its log's key and no other") {
  Tree t(7, 7, "");
  auto log = Key(1), other = Key(2);
  const note::VerifierKey vkey = LogVerifierKey(kOrigin, *log);
  const std::string signed_note = SignCheckpoint(At(t, 7), *log);
  Checkpoint c;
  REQUIRE(OpenCheckpoint(signed_note, vkey, &c).ok());
  CHECK(c.size == 7);
  CHECK(c.root == t.Root(7));

  const auto refused = [&](const std::string& message, const note::VerifierKey& key) {
    Status s = OpenCheckpoint(message, key, &c);
    CHECK(!s.ok());
    return s.message();
  };
  const std::string root_b64 = B64(t.Root(7));
  std::string changed_size = signed_note;
  changed_size.replace(changed_size.find("\n7\n"), 3, "\n8\n");
  CHECK_THAT(refused(changed_size, vkey), Catch::Contains("does not verify"));
  std::string changed_root = signed_note;
  changed_root.replace(changed_root.find(root_b64), root_b64.size(), B64(t.Root(6)));
  CHECK_THAT(refused(changed_root, vkey), Catch::Contains("does not verify"));
  std::string changed_origin = signed_note;
  changed_origin.replace(0, kOrigin.size(), "ocop.example/ledgeR");
  CHECK_THAT(refused(changed_origin, vkey), Catch::Contains("does not verify"));

  // Another log's head, signed by its own key: not this log's.
  const std::string other_head = SignCheckpoint(At(t, 7, "other.example/log"), *other);
  CHECK_THAT(refused(other_head, vkey), Catch::Contains("no signature by a known key") &&
                                            Catch::Contains("other.example/log"));
  // The same origin signed by another key: not this log's either.
  CHECK_THAT(refused(SignCheckpoint(At(t, 7), *other), vkey),
             Catch::Contains("no signature by a known key"));
  // This log's key signing another origin's head: refused naming both.
  note::Note foreign{CheckpointText(At(t, 7, "other.example/log")), {}};
  foreign.signatures.push_back(note::SignEd25519(*log, kOrigin, foreign.text));
  CHECK_THAT(
      refused(note::FormatNote(foreign), vkey),
      Catch::Contains("origin is 'other.example/log'") && Catch::Contains("a head of another log"));
  // A note that is not a checkpoint at all.
  note::Note prose{"hello\n", {note::SignEd25519(*log, kOrigin, "hello\n")}};
  CHECK_THAT(refused(note::FormatNote(prose), vkey), Catch::Contains("not a checkpoint"));
}

TEST_CASE("the witness cosigns only checkpoints that extend the last one") {
  Tree t(40, 40, "");
  Tree fork(40, 12, "forked");
  auto log = Key(1), other = Key(2);
  const note::VerifierKey vkey = LogVerifierKey(kOrigin, *log);
  const WitnessRecord at20{vkey, At(t, 20), SignCheckpoint(At(t, 20), *log)};
  const auto refusal = [&](const std::optional<WitnessRecord>& last, const Checkpoint& next,
                           const std::optional<ConsistencyProof>& proof,
                           const note::VerifierKey& key) {
    Status s = CheckAppendOnly(last, key, next, proof);
    CHECK(s.IsRefused());
    return s.message();
  };

  // The first checkpoint of a log: nothing to be consistent with.
  CHECK(CheckAppendOnly(std::nullopt, vkey, At(t, 20), std::nullopt).ok());
  CHECK_THAT(refusal(std::nullopt, At(t, 20), t.Proof(10, 20), vkey),
             Catch::Contains("never cosigned"));
  // Growth with the proof from the size last cosigned.
  CHECK(CheckAppendOnly(at20, vkey, At(t, 33), t.Proof(20, 33)).ok());
  CHECK(CheckAppendOnly(at20, vkey, At(t, 40), t.Proof(20, 40)).ok());
  // The same checkpoint again: fine, with or without an empty proof.
  CHECK(CheckAppendOnly(at20, vkey, At(t, 20), std::nullopt).ok());
  CHECK(CheckAppendOnly(at20, vkey, At(t, 20), ConsistencyProof{20, 20, {}}).ok());

  CHECK_THAT(refusal(at20, At(t, 19), t.Proof(19, 20), vkey),
             Catch::Contains("an older checkpoint: size 19 is older than") &&
                 Catch::Contains("(size 20)"));
  CHECK_THAT(refusal(at20, At(fork, 20), std::nullopt, vkey),
             Catch::Contains("a fork: the checkpoint has another root at the same size 20"));
  CHECK_THAT(refusal(at20, At(t, 20), ConsistencyProof{19, 20, {}}, vkey),
             Catch::Contains("both of size 20"));
  CHECK_THAT(
      refusal(at20, At(t, 30), std::nullopt, vkey),
      Catch::Contains("the consistency proof is missing") && Catch::Contains("from size 20 to 30"));
  CHECK_THAT(refusal(at20, At(t, 30), t.Proof(19, 30), vkey),
             Catch::Contains("the consistency proof is from size 19 to 30; needed is"));
  CHECK_THAT(refusal(at20, At(t, 30), t.Proof(20, 31), vkey),
             Catch::Contains("the consistency proof is from size 20 to 31"));
  // A forked log (the same first 12 events, then others) signed by the same
  // key, presented with its own, valid-looking proof.
  CHECK_THAT(refusal(at20, At(fork, 30), fork.Proof(20, 30), vkey),
             Catch::Contains("a fork: the checkpoint of size 30 is not consistent with"));
  // A garbled proof: every element and the length matter.
  ConsistencyProof bad = t.Proof(20, 30);
  bad.path[0][3] ^= 1;
  CHECK_THAT(refusal(at20, At(t, 30), bad, vkey), Catch::Contains("does not verify"));
  bad = t.Proof(20, 30);
  bad.path.pop_back();
  CHECK_THAT(refusal(at20, At(t, 30), bad, vkey), Catch::Contains("does not verify"));
  // The same origin under another key.
  CHECK_THAT(refusal(at20, At(t, 30), t.Proof(20, 30), LogVerifierKey(kOrigin, *other)),
             Catch::Contains("knows the log " + kOrigin + " by the key") &&
                 Catch::Contains("another key"));
  // The empty tree: its root is fixed, and every tree extends it.
  Checkpoint empty_wrong{kOrigin, 0, t.Root(1), {}};
  CHECK_THAT(refusal(std::nullopt, empty_wrong, std::nullopt, vkey),
             Catch::Contains("size 0 must have the empty tree's root"));
  const WitnessRecord at0{vkey, At(t, 0), SignCheckpoint(At(t, 0), *log)};
  CHECK(CheckAppendOnly(at0, vkey, At(t, 25), std::nullopt).ok());
}

TEST_CASE("the witness's state and key live on disk") {
  TempDir dir;
  auto log = Key(1);
  const note::VerifierKey vkey = LogVerifierKey(kOrigin, *log);
  Tree t(9, 9, "");
  const WitnessRecord r{vkey, At(t, 9), SignCheckpoint(At(t, 9), *log)};

  std::unique_ptr<WitnessStore> store;
  REQUIRE(WitnessStore::Open((dir.path / "state").string(), &store).ok());
  std::optional<WitnessRecord> got;
  REQUIRE(store->Load(kOrigin, &got).ok());
  CHECK(!got);
  REQUIRE(store->Store(r).ok());
  REQUIRE(store->Load(kOrigin, &got).ok());
  REQUIRE(got);
  CHECK(got->checkpoint.size == 9);
  CHECK(got->checkpoint.root == t.Root(9));
  CHECK(got->checkpoint_note == r.checkpoint_note);
  CHECK(note::FormatVerifierKey(got->log_key) == note::FormatVerifierKey(vkey));
  REQUIRE(store->Load("another.example/log", &got).ok());
  CHECK(!got);
  CHECK(fs::exists(dir.path / "state" / "LOCK"));

  // A record changed on disk is found out, not trusted.
  fs::path file;
  for (const auto& e : fs::directory_iterator(dir.path / "state")) {
    if (e.path().filename().string().rfind("log-", 0) == 0) file = e.path();
  }
  std::string text;
  REQUIRE(ReadWholeFile(file.string(), &text).ok());
  std::string changed = text;
  changed.replace(changed.find("\n9\n"), 3, "\n8\n");
  REQUIRE(WriteFileDurably(file.string(), changed, 0644).ok());
  Status s = store->Load(kOrigin, &got);
  CHECK(s.IsCorruption());
  CHECK_THAT(s.message(), Catch::Contains("damaged") && Catch::Contains("does not verify"));

  // Keys: mode 0600, never overwritten, refused when others can read them.
  const std::string key_path = (dir.path / "w.key").string();
  WitnessKey k;
  REQUIRE(CreateWitnessKey(key_path, "witness.example/w1", std::string(32, 'k'), &k).ok());
  struct stat st;
  REQUIRE(::stat(key_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(k.verifier.type == note::kCosignatureV1);
  CHECK(k.name == "witness.example/w1");
  WitnessKey again;
  CHECK_THAT(CreateWitnessKey(key_path, "x", std::string(32, 'j'), &again).message(),
             Catch::Contains("never overwritten"));
  REQUIRE(LoadWitnessKey(key_path, &again).ok());
  CHECK(note::FormatVerifierKey(again.verifier) == note::FormatVerifierKey(k.verifier));
  ::chmod(key_path.c_str(), 0644);
  CHECK_THAT(LoadWitnessKey(key_path, &again).message(), Catch::Contains("readable by other"));
  WitnessKey unnamed;
  REQUIRE(CreateWitnessKey((dir.path / "u.key").string(), "", std::string(32, 'u'), &unnamed).ok());
  CHECK(unnamed.name == DefaultWitnessName(unnamed.signer->public_key()));
}

TEST_CASE("a cosigned checkpoint is checked against a quorum of witnesses") {
  Tree t(12, 12, "");
  auto log = Key(1), w1 = Key(11), w2 = Key(12), w3 = Key(13);
  const note::VerifierKey vlog = LogVerifierKey(kOrigin, *log);
  const auto vk = [](const Signer& s, const std::string& name) {
    return note::MakeVerifierKey(name, note::kCosignatureV1, s.public_key());
  };
  const note::VerifierKey k1 = vk(*w1, "w1.example"), k2 = vk(*w2, "w2.example"),
                          k3 = vk(*w3, "w3.example");
  note::Note n;
  REQUIRE(note::ParseNote(SignCheckpoint(At(t, 12), *log), &n).ok());
  n = note::AddSignature(n, note::Cosign(*w1, "w1.example", 1000, n.text));
  n = note::AddSignature(n, note::Cosign(*w2, "w2.example", 2000, n.text));
  const std::string msg = note::FormatNote(n);

  CosignedCheckpoint c;
  REQUIRE(VerifyCosigned(msg, vlog, {k1, k2, k3}, 2, &c).ok());
  CHECK(c.checkpoint.size == 12);
  REQUIRE(c.cosigners.size() == 2);
  CHECK(c.cosigners[0].key.name == "w1.example");
  CHECK(c.cosigners[0].timestamp == 1000);
  CHECK(c.cosigners[1].timestamp == 2000);
  REQUIRE(VerifyCosigned(msg, vlog, {}, 0, &c).ok());

  Status s = VerifyCosigned(msg, vlog, {k1, k2, k3}, 3, &c);
  CHECK(s.IsRefused());
  CHECK_THAT(s.message(), Catch::Contains("cosigned by 2 of the 3 witnesses trusted") &&
                              Catch::Contains("3 are required"));
  // A trusted witness's cosignature that fails refuses the note.
  note::Note bad = n;
  bad.signatures[2].bytes[20] ^= 1;
  CHECK_THAT(VerifyCosigned(note::FormatNote(bad), vlog, {k1, k2}, 1, &c).message(),
             Catch::Contains("signature of w2.example"));
  // A cosignature of another checkpoint (size 11) moved onto this one.
  note::Note moved = n;
  moved.signatures[1] = note::Cosign(*w1, "w1.example", 1000, CheckpointText(At(t, 11)));
  CHECK(VerifyCosigned(note::FormatNote(moved), vlog, {k1}, 1, &c).IsTampered());
  // Witness keys must be cosignature keys.
  CHECK(VerifyCosigned(msg, vlog, {vlog}, 1, &c).IsInvalidArgument());
  // And the log's own signature is still required.
  CHECK(VerifyCosigned(msg, LogVerifierKey(kOrigin, *w3), {k1}, 1, &c).IsTampered());
}

TEST_CASE("a data directory records its origin once") {
  TempDir dir;
  fs::create_directories(dir.path);
  auto key = Key(5);
  const std::string d = dir.path.string();
  std::string origin;
  REQUIRE(LoadOrigin(d, key->public_key(), &origin).ok());
  CHECK(origin == DefaultOrigin(key->public_key()));
  CHECK(origin.rfind("ocop-ledger/", 0) == 0);
  CHECK(origin.size() == std::string("ocop-ledger/").size() + 16);

  CHECK(RecordOrigin(d, "bad origin", key->public_key(), true).IsInvalidArgument());
  CHECK_THAT(RecordOrigin(d, "ocop.camau.gov.vn/ledger", key->public_key(), false).message(),
             Catch::Contains("cannot become"));
  REQUIRE(RecordOrigin(d, "ocop.camau.gov.vn/ledger", key->public_key(), true).ok());
  REQUIRE(LoadOrigin(d, key->public_key(), &origin).ok());
  CHECK(origin == "ocop.camau.gov.vn/ledger");
  REQUIRE(RecordOrigin(d, "", key->public_key(), false).ok());
  REQUIRE(RecordOrigin(d, "ocop.camau.gov.vn/ledger", key->public_key(), false).ok());
  Status s = RecordOrigin(d, "ocop.other.gov.vn/ledger", key->public_key(), true);
  CHECK(s.IsRefused());
  CHECK_THAT(s.message(), Catch::Contains("has the origin 'ocop.camau.gov.vn/ledger'"));
  // Another key does not change a recorded origin.
  REQUIRE(LoadOrigin(d, Key(6)->public_key(), &origin).ok());
  CHECK(origin == "ocop.camau.gov.vn/ledger");
}
