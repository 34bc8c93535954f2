// `ocop checkpoint`, `ocop public-key --vkey` and `ocop witness` from the
// outside, as a log operator, a witness and a third party use them:
//  * the checkpoint agrees with `ocop tree-head`, under the origin recorded
//    when the data directory was made;
//  * a witness cosigns a growing log, and refuses with exit 1, naming the
//    fault and keeping its state, an older checkpoint, a forked log signed by
//    the same key, a head of another log, a changed note, a missing, wrong or
//    garbled proof;
//  * an independent checker verifies what `ocop` printed: Go's
//    golang.org/x/mod/sumdb/note (Debian's golang-golang-x-mod-dev), built
//    here offline from tests/go/note_check.go, which checks the witness's
//    cosignature with a verifier written from c2sp.org/tlog-cosignature.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_support.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using ocop::testing::DataDir;
using ocop::testing::Shell;

namespace {

ocop::testing::Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("checkpoint", args, input);
}

// Runs `ocop ARGS` with stderr captured instead of stdout.
ocop::testing::Run OcopErr(const std::string& args) {
  return Shell(std::string(OCOP_BINARY) + " " + args + " 2>&1 >/dev/null");
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void Smoke(const DataDir& d, int events, const std::string& extra = "") {
  REQUIRE(Ocop(d.flag() + extra + " smoke --events " + std::to_string(events)).code == 0);
}

// The root line of a checkpoint from a tree head's hex root, by hand.
std::string Base64OfHex(const std::string& hex) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? k[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? k[v & 63] : '=';
  }
  return out;
}

}  // namespace

TEST_CASE("ocop checkpoint is the signed tree head as a C2SP checkpoint") {
  DataDir d("cp");
  Smoke(d, 12, " --origin ocop.test.gov.vn/ledger");
  CHECK(Trim(Read((d.path / "origin").string())) == "ocop.test.gov.vn/ledger");

  auto vkey = Ocop(d.flag() + " public-key --vkey");
  REQUIRE(vkey.code == 0);
  CHECK(vkey.out.rfind("ocop.test.gov.vn/ledger+", 0) == 0);
  // The existing outputs stay as they were.
  auto pk = json::parse(Ocop(d.flag() + " public-key").out);
  CHECK(pk.contains("key_id"));
  CHECK(pk.contains("pem"));

  for (const std::string size : {"", "5", "1", "0"}) {
    INFO("size " << size);
    const std::string opt = size.empty() ? "" : " --size " + size;
    auto head = json::parse(Ocop(d.flag() + " tree-head" + opt).out);
    auto cp = Ocop(d.flag() + " checkpoint" + opt);
    REQUIRE(cp.code == 0);
    const std::string want_text = "ocop.test.gov.vn/ledger\n" +
                                  std::to_string(head["size"].get<uint64_t>()) + "\n" +
                                  Base64OfHex(head["root"].get<std::string>()) + "\n";
    // Then the stream-heads line (ledger/stream_heads.h), the blank line, the signature.
    CHECK(cp.out.rfind(want_text + "ocop-stream-heads ", 0) == 0);
    CHECK(cp.out.find("\n\n\xE2\x80\x94 ocop.test.gov.vn/ledger ") != std::string::npos);
    CHECK(std::count(cp.out.begin(), cp.out.end(), '\n') == 6);
  }
  auto past = Ocop(d.flag() + " checkpoint --size 13");
  CHECK(past.code == 2);

  // An origin is for good: a writer asking for another is refused.
  auto other = OcopErr(d.flag() + " --origin ocop.other/ledger smoke --events 1");
  CHECK(other.code == 1);
  CHECK_THAT(other.out, Catch::Contains("cannot become 'ocop.other/ledger'"));
  CHECK(OcopErr(d.flag() + " --origin 'bad origin' smoke --events 1").code == 2);
  auto asked = OcopErr(d.flag() + " --origin ocop.other/ledger checkpoint");
  CHECK(asked.code == 1);
  CHECK_THAT(asked.out, Catch::Contains("it cannot be 'ocop.other/ledger'"));
  CHECK(Ocop(d.flag() + " --origin ocop.test.gov.vn/ledger public-key --vkey").out == vkey.out);

  // Without a chosen origin, the default comes from the key.
  DataDir plain("cp-plain");
  Smoke(plain, 3);
  auto key = json::parse(Ocop(plain.flag() + " public-key").out);
  const std::string origin = "ocop-ledger/" + key["key_id"].get<std::string>().substr(0, 16);
  CHECK(Trim(Read((plain.path / "origin").string())) == origin);
  CHECK(Ocop(plain.flag() + " checkpoint").out.rfind(origin + "\n3\n", 0) == 0);
  CHECK(Ocop(plain.flag() + " public-key --vkey").out.rfind(origin + "+", 0) == 0);
}

TEST_CASE("ocop witness cosigns a growing log and refuses forks and going back") {
  DataDir log("wlog");
  Smoke(log, 10, " --origin ocop.test/log");
  const std::string vkey = Trim(Ocop(log.flag() + " public-key --vkey").out);
  const std::string key = log.File("witness.key"), state = log.File("state");
  auto made = Ocop("witness key --out " + key + " --name witness.test/w1");
  REQUIRE(made.code == 0);
  const std::string wvkey = Trim(made.out);
  CHECK(wvkey.rfind("witness.test/w1+", 0) == 0);
  struct stat st;
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(OcopErr("witness key --out " + key).code == 1);  // never overwritten

  const std::string base = "witness cosign --state " + state + " --key " + key + " --log-vkey " +
                           vkey + " --time 1700000000";
  const auto cosign = [&](const std::string& note, const std::string& more = "") {
    Write(log.File("in.note"), note);
    return Ocop(base + " --checkpoint " + log.File("in.note") + more);
  };
  const auto refused = [&](const std::string& note, const std::string& more = "") {
    Write(log.File("in.note"), note);
    return OcopErr(base + " --checkpoint " + log.File("in.note") + more);
  };
  const auto proof = [&](const DataDir& d, int from, int to) {
    const std::string path = log.File("proof-" + std::to_string(from) + "-" + std::to_string(to));
    auto r = Ocop(d.flag() + " consistency --from " + std::to_string(from) + " --to " +
                  std::to_string(to));
    REQUIRE(r.code == 0);
    Write(path, r.out);
    return " --proof " + path;
  };

  const std::string cp10 = Ocop(log.flag() + " checkpoint").out;
  auto first = cosign(cp10);
  REQUIRE(first.code == 0);
  CHECK(first.out.rfind(cp10, 0) == 0);
  CHECK(first.out.substr(cp10.size()).rfind("\xE2\x80\x94 witness.test/w1 ", 0) == 0);
  Write(log.File("cosigned10"), first.out);
  auto ok = Ocop("witness verify --log-vkey " + vkey + " --witness-vkey " + wvkey +
                 " --checkpoint " + log.File("cosigned10"));
  REQUIRE(ok.code == 0);
  auto okj = json::parse(ok.out);
  CHECK(okj["size"] == 10);
  CHECK(okj["cosigned_by"][0]["name"] == "witness.test/w1");
  CHECK(okj["cosigned_by"][0]["timestamp"] == 1700000000);

  Smoke(log, 5);
  const std::string cp15 = Ocop(log.flag() + " checkpoint").out;
  auto missing = refused(cp15);
  CHECK(missing.code == 1);
  CHECK_THAT(missing.out, Catch::Contains("the consistency proof is missing"));
  Write(log.File("garbled"), "{\"from\":10,\"to\":15,\"path\":[\"zz\"]}");
  auto garbled = refused(cp15, " --proof " + log.File("garbled"));
  CHECK(garbled.code == 2);
  CHECK_THAT(garbled.out, Catch::Contains("is garbled"));
  Write(log.File("garbled"), "not json");
  CHECK(refused(cp15, " --proof " + log.File("garbled")).code == 2);
  auto wrong_from = refused(cp15, proof(log, 9, 15));
  CHECK(wrong_from.code == 1);
  CHECK_THAT(wrong_from.out, Catch::Contains("from size 9 to 15; needed is"));
  REQUIRE(cosign(cp15, proof(log, 10, 15)).code == 0);
  const std::string state_after_15 = [&] {
    std::string s;
    for (const auto& e : fs::directory_iterator(state)) {
      if (e.path().filename().string().rfind("log-", 0) == 0) s = Read(e.path().string());
    }
    return s;
  }();
  CHECK(state_after_15.find("\n15\n") != std::string::npos);

  // Going back.
  auto older = refused(cp10);
  CHECK(older.code == 1);
  CHECK_THAT(older.out, Catch::Contains("an older checkpoint: size 10 is older than"));

  // A fork: another directory with the same key and origin, other events.
  DataDir fork("wfork");
  fs::create_directories(fork.path);
  fs::copy_file(log.path / "signing-key.pem", fork.path / "signing-key.pem");
  Smoke(fork, 20, " --origin ocop.test/log");
  REQUIRE(Trim(Ocop(fork.flag() + " public-key --vkey").out) == vkey);
  auto same_size = refused(Ocop(fork.flag() + " checkpoint --size 15").out);
  CHECK(same_size.code == 1);
  CHECK_THAT(same_size.out, Catch::Contains("a fork: the checkpoint has another root"));
  auto forked = refused(Ocop(fork.flag() + " checkpoint").out, proof(fork, 15, 20));
  CHECK(forked.code == 1);
  CHECK_THAT(forked.out, Catch::Contains("a fork: the checkpoint of size 20 is not consistent"));

  // A head of another log, and a changed note.
  DataDir other("wother");
  Smoke(other, 16, " --origin ocop.other/log");
  auto foreign = refused(Ocop(other.flag() + " checkpoint").out, proof(other, 15, 16));
  CHECK(foreign.code == 1);
  CHECK_THAT(foreign.out,
             Catch::Contains("no signature by a known key") && Catch::Contains("ocop.other/log"));
  Smoke(log, 1);
  std::string cp16 = Ocop(log.flag() + " checkpoint").out;
  std::string changed = cp16;
  changed.replace(changed.find("\n16\n"), 4, "\n17\n");
  auto tampered = refused(changed, proof(log, 15, 16));
  CHECK(tampered.code == 1);
  CHECK_THAT(tampered.out, Catch::Contains("does not verify"));
  auto malformed = refused(cp16.substr(0, cp16.size() - 1), proof(log, 15, 16));
  CHECK(malformed.code == 2);
  CHECK_THAT(malformed.out, Catch::Contains("malformed note"));

  // Nothing refused changed the witness's state.
  for (const auto& e : fs::directory_iterator(state)) {
    if (e.path().filename().string().rfind("log-", 0) == 0) {
      CHECK(Read(e.path().string()) == state_after_15);
    }
  }
  REQUIRE(cosign(cp16, proof(log, 15, 16)).code == 0);

  // A key others can read is refused.
  ::chmod(key.c_str(), 0644);
  auto loose = refused(cp16);
  CHECK(loose.code == 1);
  CHECK_THAT(loose.out, Catch::Contains("readable by other users"));
}

TEST_CASE("Go's sumdb/note verifies ocop's checkpoints and cosignatures") {
  DataDir d("gonote");
  Smoke(d, 7, " --origin ocop.test/go");
  const std::string checker = d.File("note_check");
  const std::string env =
      "GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE=" + d.File("gocache") +
      " HOME=" + d.File("home");
  auto built = Shell(env + " go build -o " + checker + " " + NOTE_CHECK_GO + " 2>&1");
  INFO(built.out);
  REQUIRE(built.code == 0);

  const std::string vkey = Trim(Ocop(d.flag() + " public-key --vkey").out);
  const std::string key = d.File("w.key");
  const std::string wvkey = Trim(Ocop("witness key --out " + key + " --name w.test/go").out);
  const std::string cp = Ocop(d.flag() + " checkpoint").out;
  Write(d.File("cp"), cp);
  auto head = json::parse(Ocop(d.flag() + " tree-head").out);
  const std::string root = Base64OfHex(head["root"].get<std::string>());

  auto logonly = Shell(checker + " " + d.File("cp") + " '" + vkey + "'");
  CHECK(logonly.code == 0);
  CHECK(logonly.out == "ok ocop.test/go 7 " + root + "\nsigned ocop.test/go\n");

  auto cosigned =
      Ocop("witness cosign --state " + d.File("state") + " --key " + key + " --log-vkey " + vkey +
           " --checkpoint " + d.File("cp") + " --time 1712345678");
  REQUIRE(cosigned.code == 0);
  Write(d.File("cosigned"), cosigned.out);
  auto both = Shell(checker + " " + d.File("cosigned") + " '" + vkey + "' '" + wvkey + "'");
  CHECK(both.code == 0);
  CHECK(both.out == "ok ocop.test/go 7 " + root + "\nsigned ocop.test/go\nsigned w.test/go\n");

  // What the checker refuses: a changed size, a changed cosignature, the key
  // of another log.
  std::string changed = cosigned.out;
  changed.replace(changed.find("\n7\n"), 3, "\n8\n");
  Write(d.File("changed"), changed);
  auto bad = Shell(checker + " " + d.File("changed") + " '" + vkey + "'");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.out, Catch::StartsWith("FAIL"));
  std::string bad_cosig = cosigned.out;
  size_t at = bad_cosig.rfind(' ') + 12;  // inside the witness's timestamp
  bad_cosig[at] = bad_cosig[at] == 'A' ? 'B' : 'A';
  Write(d.File("badcosig"), bad_cosig);
  CHECK(Shell(checker + " " + d.File("badcosig") + " '" + vkey + "' '" + wvkey + "'").code == 1);
  DataDir other("gonote-other");
  Smoke(other, 7, " --origin ocop.test/go");
  const std::string other_vkey = Trim(Ocop(other.flag() + " public-key --vkey").out);
  CHECK(Shell(checker + " " + d.File("cp") + " '" + other_vkey + "'").code == 1);
}
