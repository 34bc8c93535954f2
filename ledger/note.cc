#include "ledger/note.h"

#include <cstdio>

#include "ledger/cosignature.h"
#include "ledger/encoding.h"
#include "ledger/merkle.h"

namespace ocop::ledger::note {
namespace {

const std::string_view kDash = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space
const std::string_view kPrivatePrefix = "PRIVATE+KEY+";

// Decodes one UTF-8 sequence at s[*i]; false if ill-formed (overlong forms,
// surrogates and values past U+10FFFF included).
bool NextCodePoint(std::string_view s, size_t* i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(*i);
  int extra;
  uint32_t v, min;
  if (c < 0x80) {
    *cp = c;
    ++*i;
    return true;
  } else if ((c & 0xE0) == 0xC0) {
    extra = 1, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3, v = c & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (*i + extra >= s.size()) return false;
  for (int k = 1; k <= extra; ++k) {
    if ((b(*i + k) & 0xC0) != 0x80) return false;
    v = (v << 6) | (b(*i + k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  *i += extra + 1;
  return true;
}

// Go's unicode.IsSpace, which the reference implementation applies to names.
bool IsUnicodeSpace(uint32_t cp) {
  switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Canonical standard base64 only: what Base64 would print for the bytes.
bool DecodeBase64(std::string_view text, std::string* bytes) {
  return FromBase64(text, bytes) && Base64(*bytes) == text;
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

bool ParseHex8(std::string_view s, uint32_t* out) {
  if (s.size() != 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

uint32_t BigEndian32(std::string_view b) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

std::string TypeName(uint8_t type) {
  return type == kEd25519 ? "Ed25519 (0x01)" : "timestamped Ed25519 cosignature (0x04)";
}

// NAME+HEX+BASE64(type || material), the shape shared by vkeys and skeys.
// The key id is returned unchecked: it depends on the public key.
Status ParseKeyText(std::string_view text, const char* what, std::string* name, uint32_t* id,
                    uint8_t* type, std::string* material) {
  size_t p1 = text.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Status::InvalidArgument(std::string("a ") + what +
                                   " has three parts NAME+KEYID+KEY; this one has fewer");
  }
  *name = std::string(text.substr(0, p1));
  Status s = CheckKeyName(*name);
  if (!s.ok()) return Status::InvalidArgument(std::string("the ") + what + "'s " + s.message());
  if (!ParseHex8(text.substr(p1 + 1, p2 - p1 - 1), id)) {
    return Status::InvalidArgument(std::string("the ") + what +
                                   "'s key id must be 8 hexadecimal digits, not '" +
                                   std::string(text.substr(p1 + 1, p2 - p1 - 1)) + "'");
  }
  std::string raw;
  if (!DecodeBase64(text.substr(p2 + 1), &raw) || raw.empty()) {
    return Status::InvalidArgument(std::string("the ") + what +
                                   "'s key is not canonical standard base64");
  }
  *type = static_cast<uint8_t>(raw[0]);
  if (*type != kEd25519 && *type != kCosignatureV1) {
    return Status::InvalidArgument(std::string("the ") + what + " is of signature type 0x" +
                                   Hex8(*type).substr(6) +
                                   "; supported are 0x01 (Ed25519) and 0x04 (cosignature/v1)");
  }
  if (raw.size() != 33) {
    return Status::InvalidArgument(std::string("the ") + what + "'s key has " +
                                   std::to_string(raw.size() - 1) +
                                   " bytes; an Ed25519 key has 32");
  }
  *material = raw.substr(1);
  return Status::OK();
}

Status CheckKeyIdMatches(const char* what, const std::string& name, uint32_t id, uint8_t type,
                         const std::string& public_key) {
  uint32_t want = KeyId(name, type, public_key);
  if (id != want) {
    return Status::InvalidArgument(std::string("the ") + what + "'s key id " + Hex8(id) +
                                   " is not the one its name and key give (" + Hex8(want) + ")");
  }
  return Status::OK();
}

}  // namespace

uint32_t KeyId(std::string_view name, uint8_t type, std::string_view public_key) {
  std::string m(name);
  m.push_back('\n');
  m.push_back(static_cast<char>(type));
  m.append(public_key);
  merkle::Hash h = merkle::Sha256(m);
  return BigEndian32(std::string_view(reinterpret_cast<const char*>(h.data()), 4));
}

Status CheckKeyName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("key name is empty");
  for (size_t i = 0; i < name.size();) {
    uint32_t cp;
    if (!NextCodePoint(name, &i, &cp)) {
      return Status::InvalidArgument("key name is not valid UTF-8");
    }
    if (IsUnicodeSpace(cp) || cp == '+') {
      return Status::InvalidArgument("key name '" + std::string(name) +
                                     "' contains a space or '+', which names may not");
    }
    if (cp < 0x20 || cp == 0x7F) {
      return Status::InvalidArgument("key name contains a control character");
    }
  }
  return Status::OK();
}

VerifierKey MakeVerifierKey(std::string_view name, uint8_t type, std::string_view public_key) {
  return VerifierKey{std::string(name), KeyId(name, type, public_key), type,
                     std::string(public_key)};
}

std::string FormatVerifierKey(const VerifierKey& key) {
  return key.name + "+" + Hex8(key.key_id) + "+" +
         Base64(std::string(1, static_cast<char>(key.type)) + key.public_key);
}

Status ParseVerifierKey(std::string_view vkey, VerifierKey* out) {
  VerifierKey k;
  Status s = ParseKeyText(vkey, "verifier key", &k.name, &k.key_id, &k.type, &k.public_key);
  if (s.ok()) s = CheckKeyIdMatches("verifier key", k.name, k.key_id, k.type, k.public_key);
  if (!s.ok()) return s;
  *out = std::move(k);
  return Status::OK();
}

std::string FormatSignerKey(std::string_view name, uint8_t type, std::string_view seed) {
  std::unique_ptr<Signer> signer;
  if (!Signer::FromSeed(seed, &signer).ok()) signer.reset();  // a bad seed: key id 0
  uint32_t id = signer ? KeyId(name, type, signer->public_key()) : 0;
  return std::string(kPrivatePrefix) + std::string(name) + "+" + Hex8(id) + "+" +
         Base64(std::string(1, static_cast<char>(type)) + std::string(seed));
}

Status ParseSignerKey(std::string_view skey, std::string* name, uint8_t* type, std::string* seed) {
  if (skey.substr(0, kPrivatePrefix.size()) != kPrivatePrefix) {
    return Status::InvalidArgument("a signer key starts with PRIVATE+KEY+");
  }
  uint32_t id;
  std::string n, material;
  uint8_t t;
  Status s = ParseKeyText(skey.substr(kPrivatePrefix.size()), "signer key", &n, &id, &t, &material);
  if (!s.ok()) return s;
  std::unique_ptr<Signer> signer;
  s = Signer::FromSeed(material, &signer);
  if (s.ok()) s = CheckKeyIdMatches("signer key", n, id, t, signer->public_key());
  if (!s.ok()) return s;
  *name = std::move(n);
  *type = t;
  *seed = std::move(material);
  return Status::OK();
}

Status ParseNote(std::string_view message, Note* out) {
  const auto bad = [](const std::string& why) {
    return Status::InvalidArgument("malformed note: " + why);
  };
  size_t line = 1;
  for (size_t i = 0; i < message.size();) {
    uint8_t c = static_cast<uint8_t>(message[i]);
    if (c < 0x20 && c != '\n') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return bad("line " + std::to_string(line) + " contains the control character " + buf +
                 " (only newline is allowed)");
    }
    if (c == '\n') ++line;
    uint32_t cp;
    if (!NextCodePoint(message, &i, &cp)) {
      return bad("line " + std::to_string(line) + " is not valid UTF-8");
    }
  }
  if (message.empty() || message.back() != '\n') return bad("it does not end with a newline");
  size_t split = message.rfind("\n\n");
  if (split == std::string_view::npos) {
    return bad("no blank line separates the text from the signature lines");
  }
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  std::string_view rest = message.substr(split + 2);
  if (rest.empty()) return bad("there is no signature line after the last blank line");
  size_t first_sig_line = 1;
  for (char c : note.text) first_sig_line += c == '\n';
  ++first_sig_line;  // the blank line
  for (size_t n = 0; !rest.empty(); ++n) {
    size_t eol = rest.find('\n');
    std::string_view l = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    const std::string where = "signature line " + std::to_string(first_sig_line + n);
    if (note.signatures.size() == kMaxSignatures) {
      return bad("it has more than " + std::to_string(kMaxSignatures) + " signatures");
    }
    if (l.substr(0, kDash.size()) != kDash) {
      return bad(where + " does not start with an em dash (U+2014) and a space");
    }
    l.remove_prefix(kDash.size());
    size_t sp = l.find(' ');
    if (sp == std::string_view::npos)
      return bad(where + " has no space between name and signature");
    Signature sig;
    sig.name = std::string(l.substr(0, sp));
    Status s = CheckKeyName(sig.name);
    if (!s.ok()) return bad(where + ": " + s.message());
    std::string raw;
    if (!DecodeBase64(l.substr(sp + 1), &raw)) {
      return bad(where + ": the signature is not canonical standard base64");
    }
    if (raw.size() < 5) {
      return bad(where + ": the signature has " + std::to_string(raw.size()) +
                 " bytes; a key id and a signature need at least 5");
    }
    sig.key_id = BigEndian32(raw);
    sig.bytes = raw.substr(4);
    note.signatures.push_back(std::move(sig));
  }
  *out = std::move(note);
  return Status::OK();
}

std::string SignatureLine(const Signature& sig) {
  std::string raw;
  for (int i = 3; i >= 0; --i) raw.push_back(static_cast<char>(sig.key_id >> (8 * i)));
  raw += sig.bytes;
  return std::string(kDash) + sig.name + " " + Base64(raw) + "\n";
}

std::string FormatNote(const Note& note) {
  std::string m = note.text + "\n";
  for (const auto& sig : note.signatures) m += SignatureLine(sig);
  return m;
}

Signature SignEd25519(const Signer& signer, std::string_view name, std::string_view text) {
  return Signature{std::string(name), KeyId(name, kEd25519, signer.public_key()),
                   signer.Sign(text)};
}

Status VerifySignature(const VerifierKey& key, std::string_view text, const Signature& sig,
                       uint64_t* timestamp) {
  if (sig.name != key.name || sig.key_id != key.key_id) {
    return Status::InvalidArgument("the signature of " + sig.name + " (key id " + Hex8(sig.key_id) +
                                   ") is not one of key " + key.name + " (key id " +
                                   Hex8(key.key_id) + ")");
  }
  const std::string who =
      key.name + " (" + TypeName(key.type) + ", key id " + Hex8(key.key_id) + ")";
  bool ok = false;
  if (key.type == kEd25519) {
    ok = sig.bytes.size() == 64 && Signer::Verify(key.public_key, text, sig.bytes);
  } else if (key.type == kCosignatureV1) {
    if (sig.bytes.size() != 72) {
      return Status::Tampered("the cosignature of " + who + " has " +
                              std::to_string(sig.bytes.size()) +
                              " bytes; a timestamp and an Ed25519 signature have 72");
    }
    uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<uint8_t>(sig.bytes[i]);
    if (t > kMaxTimestamp) {
      return Status::Tampered("the cosignature of " + who + " has a timestamp past 2^63-1");
    }
    ok = Signer::Verify(key.public_key, CosignatureMessage(t, text), sig.bytes.substr(8));
    if (ok && timestamp) *timestamp = t;
  } else {
    return Status::InvalidArgument("unsupported signature type of " + key.name);
  }
  if (!ok) {
    return Status::Tampered("the signature of " + who +
                            " does not verify: the note's text was changed after it was signed, "
                            "or another key made it under that name");
  }
  return Status::OK();
}

Status VerifyKnownSignatures(const Note& note, const std::vector<VerifierKey>& known,
                             std::vector<Verified>* verified) {
  std::vector<Verified> good;
  for (const auto& sig : note.signatures) {
    for (const auto& key : known) {
      if (key.name != sig.name || key.key_id != sig.key_id) continue;
      Verified v{key, 0};
      Status s = VerifySignature(key, note.text, sig, &v.timestamp);
      if (!s.ok()) return s;
      bool seen = false;
      for (const auto& g : good) seen |= g.key.name == key.name && g.key.key_id == key.key_id;
      if (!seen) good.push_back(std::move(v));
      break;
    }
  }
  *verified = std::move(good);
  return Status::OK();
}

Status OpenNote(std::string_view message, const std::vector<VerifierKey>& known, Note* note,
                std::vector<Verified>* verified) {
  Note n;
  std::vector<Verified> good;
  Status s = ParseNote(message, &n);
  if (s.ok()) s = VerifyKnownSignatures(n, known, &good);
  if (!s.ok()) return s;
  if (good.empty()) {
    std::string present, expected;
    for (const auto& sig : n.signatures) {
      present += (present.empty() ? "" : ", ") + sig.name + " (key id " + Hex8(sig.key_id) + ")";
    }
    for (const auto& key : known) {
      expected += (expected.empty() ? "" : ", ") + key.name + " (key id " + Hex8(key.key_id) + ")";
    }
    return Status::Tampered("no signature by a known key: the note is signed by " + present +
                            "; the keys trusted here are " +
                            (expected.empty() ? std::string("none") : expected));
  }
  *note = std::move(n);
  if (verified) *verified = std::move(good);
  return Status::OK();
}

Note AddSignature(Note note, Signature sig) {
  std::erase_if(note.signatures,
                [&](const Signature& s) { return s.name == sig.name && s.key_id == sig.key_id; });
  note.signatures.push_back(std::move(sig));
  return note;
}

}  // namespace ocop::ledger::note
