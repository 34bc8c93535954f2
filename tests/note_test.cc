// Signed notes (c2sp.org/signed-note) and cosignatures
// (c2sp.org/tlog-cosignature): the specs' own examples, Go's reference
// signature, round trips, and every malformed or tampered note refused with a
// message that names the fault.
#include "ledger/note.h"

#include <catch2/catch.hpp>
#include <string>

#include "ledger/cosignature.h"
#include "ledger/encoding.h"

using namespace ocop::ledger::note;
using ocop::Status;
using ocop::ledger::Signer;

namespace {

std::unique_ptr<Signer> SignerFromByte(char b) {
  std::unique_ptr<Signer> s;
  REQUIRE(Signer::FromSeed(std::string(32, b), &s).ok());
  return s;
}

std::string Signed(const std::string& text, const Signer& key, const std::string& name) {
  Note n{text, {SignEd25519(key, name, text)}};
  return FormatNote(n);
}

}  // namespace

TEST_CASE("the signed-note spec's verifier key example verifies its note") {
  // c2sp.org/signed-note, "Verifier keys", Example.
  const std::string vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
  const std::string msg =
      "This is an example message.\n\n"
      "\xE2\x80\x94 example.com/foo "
      "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM"
      "=\n";
  VerifierKey key;
  REQUIRE(ParseVerifierKey(vkey, &key).ok());
  CHECK(key.name == "example.com/foo");
  CHECK(key.key_id == 0x530d903a);
  CHECK(key.type == kEd25519);
  CHECK(KeyId(key.name, key.type, key.public_key) == 0x530d903a);
  CHECK(FormatVerifierKey(key) == vkey);

  Note n;
  std::vector<Verified> v;
  REQUIRE(OpenNote(msg, {key}, &n, &v).ok());
  CHECK(n.text == "This is an example message.\n");
  REQUIRE(v.size() == 1);
  CHECK(v[0].key.name == "example.com/foo");
  CHECK(FormatNote(n) == msg);

  std::string changed = msg;
  changed[5] = 'I';  // "This Is an example"
  Status s = OpenNote(changed, {key}, &n, &v);
  CHECK(s.IsTampered());
  CHECK_THAT(s.message(),
             Catch::Contains("signature of example.com/foo") && Catch::Contains("does not verify"));
}

TEST_CASE("signing gives the bytes of Go's golang.org/x/mod/sumdb/note") {
  // The key, text and signature of TestSign in Go's note_test.go.
  const std::string skey =
      "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  const std::string text =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n";
  std::string name, seed;
  uint8_t type = 0;
  REQUIRE(ParseSignerKey(skey, &name, &type, &seed).ok());
  CHECK(name == "PeterNeumann");
  CHECK(type == kEd25519);
  CHECK(FormatSignerKey(name, type, seed) == skey);
  std::unique_ptr<Signer> signer;
  REQUIRE(Signer::FromSeed(seed, &signer).ok());
  CHECK(FormatVerifierKey(MakeVerifierKey(name, kEd25519, signer->public_key())) ==
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  CHECK(Signed(text, *signer, name) ==
        text +
            "\n\xE2\x80\x94 PeterNeumann "
            "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6Ryy"
            "BwJnAM=\n");
}

TEST_CASE("malformed verifier and signer keys are refused naming the fault") {
  auto key = SignerFromByte(7);
  VerifierKey good = MakeVerifierKey("log.example/a", kEd25519, key->public_key());
  const std::string vkey = FormatVerifierKey(good);
  struct Case {
    std::string vkey, why;
  } cases[] = {
      {"log.example/a", "three parts"},
      {"log.example/a+" + vkey.substr(vkey.find('+') + 1, 8), "three parts"},
      {"+" + vkey.substr(vkey.find('+') + 1), "key name is empty"},
      {"log.example/a+00000000+" + vkey.substr(vkey.find('+') + 10), "key id 00000000 is not"},
      {"log.example/a+12345+" + vkey.substr(vkey.find('+') + 10), "8 hexadecimal digits"},
      {"log.example/a+" + vkey.substr(vkey.find('+') + 1, 9) + "AX!=", "base64"},
      {"log.example/a+" + vkey.substr(vkey.find('+') + 1, 9) +
           ocop::Base64(std::string(1, '\x02') + key->public_key()),
       "signature type 0x02"},
      {"log.example/a+" + vkey.substr(vkey.find('+') + 1, 9) +
           ocop::Base64(std::string(1, '\x01') + key->public_key().substr(1)),
       "has 31 bytes"},
      {"log example/a+" + vkey.substr(vkey.find('+') + 1), "contains a space"},
  };
  for (const auto& c : cases) {
    INFO(c.vkey);
    VerifierKey k;
    Status s = ParseVerifierKey(c.vkey, &k);
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::Contains(c.why));
  }
  VerifierKey k;
  REQUIRE(ParseVerifierKey(vkey, &k).ok());
  CHECK(k.public_key == key->public_key());

  std::string name, seed;
  uint8_t type;
  CHECK_THAT(ParseSignerKey(vkey, &name, &type, &seed).message(),
             Catch::Contains("starts with PRIVATE+KEY+"));
  std::string skey = FormatSignerKey("w.example/1", kCosignatureV1, std::string(32, 'x'));
  REQUIRE(ParseSignerKey(skey, &name, &type, &seed).ok());
  CHECK(type == kCosignatureV1);
  std::string renamed = "PRIVATE+KEY+w.example/2" + skey.substr(skey.find('+', 23));
  CHECK_THAT(ParseSignerKey(renamed, &name, &type, &seed).message(),
             Catch::Contains("is not the one its name and key give"));
}

TEST_CASE("malformed notes are refused naming the fault") {
  auto key = SignerFromByte(1);
  const std::string text = "log.example/a\n3\nAAAA\n";
  const std::string good = Signed(text, *key, "log.example/a");
  const std::string line = good.substr(text.size() + 1);
  Note n;
  REQUIRE(ParseNote(good, &n).ok());
  CHECK(FormatNote(n) == good);

  struct Case {
    std::string msg, why;
  } cases[] = {
      {good.substr(0, good.size() - 1), "does not end with a newline"},
      {text + line, "no blank line"},
      {text + "\n", "no signature line"},
      {"log.example/a\n3\tx\nAAAA\n\n" + line, "line 2 contains the control character 0x09"},
      {"log.example/a\n3\r\nAAAA\n\n" + line, "control character 0x0d"},
      {"log.example/\xC3\n3\nAAAA\n\n" + line, "line 1 is not valid UTF-8"},
      {"log.example/\xC0\xAF\n3\nAAAA\n\n" + line, "not valid UTF-8"},      // overlong '/'
      {"log.example/\xED\xA0\x80\n3\nAAAA\n\n" + line, "not valid UTF-8"},  // a surrogate
      {text + "\n- log.example/a AAAAAAAA\n", "signature line 5 does not start with an em dash"},
      {text + "\n\xE2\x80\x94 log.example/a\n", "has no space"},
      {text + "\n\xE2\x80\x94 log.ex+ample/a AAAAAAAA\n", "contains a space or '+'"},
      {text + "\n\xE2\x80\x94  AAAAAAAA\n", "key name is empty"},
      {text + "\n\xE2\x80\x94 log.example/a AAAA AAAA\n", "not canonical standard base64"},
      {text + "\n\xE2\x80\x94 log.example/a AAAAAA==\n", "has 4 bytes"},
      {text + "\n\xE2\x80\x94 log.example/a AAAAAAB=\n", "not canonical"},  // stray bits
      {text + "\n\xE2\x80\x94 log.example/a AAAAAAAA", "does not end with a newline"},
  };
  for (const auto& c : cases) {
    INFO(c.msg);
    Status s = ParseNote(c.msg, &n);
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::StartsWith("malformed note") && Catch::Contains(c.why));
  }

  // The spec's bound: at least 16 signatures are taken; more than 100 are not.
  std::string many = good;
  for (int i = 1; i < 16; ++i) many += line;
  REQUIRE(ParseNote(many, &n).ok());
  CHECK(n.signatures.size() == 16);
  for (int i = 16; i < 101; ++i) many += line;
  CHECK_THAT(ParseNote(many, &n).message(), Catch::Contains("more than 100 signatures"));

  // The text may hold blank lines: the last one splits.
  const std::string poem = "one\n\ntwo\n";
  REQUIRE(ParseNote(Signed(poem, *key, "p"), &n).ok());
  CHECK(n.text == poem);
}

TEST_CASE("verification ignores unknown keys and refuses a bad known signature") {
  auto a = SignerFromByte(1), b = SignerFromByte(2), c = SignerFromByte(3);
  const VerifierKey ka = MakeVerifierKey("a.example", kEd25519, a->public_key());
  const VerifierKey kb = MakeVerifierKey("b.example", kEd25519, b->public_key());
  const std::string text = "hello\n";
  Note n{text, {SignEd25519(*a, "a.example", text), SignEd25519(*b, "b.example", text)}};
  const std::string msg = FormatNote(n);
  Note out;
  std::vector<Verified> v;

  SECTION("an unknown key is ignored") {
    REQUIRE(OpenNote(msg, {kb}, &out, &v).ok());
    REQUIRE(v.size() == 1);
    CHECK(v[0].key.name == "b.example");
  }
  SECTION("no known key at all: refused, naming what signed and what is trusted") {
    const VerifierKey kc = MakeVerifierKey("c.example", kEd25519, c->public_key());
    Status s = OpenNote(msg, {kc}, &out, &v);
    CHECK(s.IsTampered());
    CHECK_THAT(s.message(), Catch::Contains("no signature by a known key") &&
                                Catch::Contains("a.example") && Catch::Contains("c.example"));
  }
  SECTION("a signature from another key under the same name is not the known key's") {
    const VerifierKey impostor = MakeVerifierKey("a.example", kEd25519, c->public_key());
    CHECK_THAT(OpenNote(msg, {impostor}, &out, &v).message(),
               Catch::Contains("no signature by a known key"));
  }
  SECTION("a known key whose signature fails refuses the whole note") {
    Note bad = n;
    bad.signatures[1].bytes[10] ^= 1;
    Status s = OpenNote(FormatNote(bad), {ka, kb}, &out, &v);
    CHECK(s.IsTampered());
    CHECK_THAT(s.message(),
               Catch::Contains("signature of b.example") && Catch::Contains("does not verify"));
  }
  SECTION("a signature of the wrong length does not verify") {
    Note bad = n;
    bad.signatures[0].bytes.pop_back();
    CHECK(OpenNote(FormatNote(bad), {ka}, &out, &v).IsTampered());
  }
  SECTION("adding a signature by a key already present replaces it") {
    Note again = AddSignature(n, SignEd25519(*a, "a.example", text));
    REQUIRE(again.signatures.size() == 2);
    CHECK(again.signatures[0].name == "b.example");
    CHECK(again.signatures[1].name == "a.example");
    REQUIRE(OpenNote(FormatNote(again), {ka, kb}, &out, &v).ok());
    CHECK(v.size() == 2);
  }
}

TEST_CASE("cosignatures follow c2sp.org/tlog-cosignature") {
  const std::string checkpoint =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  // The spec's signed message, byte for byte.
  CHECK(CosignatureMessage(1679315147, checkpoint) ==
        "cosignature/v1\ntime 1679315147\n" + checkpoint);

  // The spec's example cosignature line (its key is not published, so only
  // its layout is checked): key id, then the timestamp of its example.
  Note n;
  const std::string example = checkpoint +
                              "\n\xE2\x80\x94 witness.example.com/w1 "
                              "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/"
                              "zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBk"
                              "BIfZ+qnA==\n";
  REQUIRE(ParseNote(example, &n).ok());
  REQUIRE(n.signatures.size() == 1);
  CHECK(n.signatures[0].name == "witness.example.com/w1");
  REQUIRE(n.signatures[0].bytes.size() == 72);
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<uint8_t>(n.signatures[0].bytes[i]);
  CHECK(t == 1679315147);

  auto w = SignerFromByte(9);
  const VerifierKey kw = MakeVerifierKey("w.example/1", kCosignatureV1, w->public_key());
  Signature sig = Cosign(*w, "w.example/1", 1700000000, checkpoint);
  CHECK(sig.key_id == KeyId("w.example/1", 0x04, w->public_key()));
  uint64_t when = 0;
  REQUIRE(VerifySignature(kw, checkpoint, sig, &when).ok());
  CHECK(when == 1700000000);

  // The timestamp is signed: changing it breaks the signature.
  Signature later = sig;
  later.bytes[7] ^= 1;
  CHECK_THAT(VerifySignature(kw, checkpoint, later, &when).message(),
             Catch::Contains("does not verify"));
  // So is the text.
  CHECK(VerifySignature(kw, checkpoint + "extension\n", sig, &when).IsTampered());
  // A timestamp past 2^63-1 is refused.
  Signature far = sig;
  far.bytes[0] = '\x80';
  CHECK_THAT(VerifySignature(kw, checkpoint, far, &when).message(), Catch::Contains("2^63-1"));
  // The same key as a plain Ed25519 key has another key id: not confused.
  const VerifierKey as_log = MakeVerifierKey("w.example/1", kEd25519, w->public_key());
  CHECK(as_log.key_id != kw.key_id);
  CHECK(VerifySignature(as_log, checkpoint, sig, &when).IsInvalidArgument());
}
