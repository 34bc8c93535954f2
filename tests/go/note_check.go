// note_check: an independent check of the ledger's checkpoints, built by
// checkpoint_test at test time. It shares no code with the project: the log's
// signature is checked by Go's golang.org/x/mod/sumdb/note (Debian's
// golang-golang-x-mod-dev), and witness cosignatures by a verifier written
// here from c2sp.org/tlog-cosignature.
//
//	note_check NOTE_FILE LOG_VKEY [WITNESS_VKEY...]
//
// Prints "ok ORIGIN SIZE ROOT_BASE64" and one "signed NAME" per verified
// signature, exit 0; or the reason, exit 1.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// cosigV1 verifies type 0x04 signatures: timestamp (8 bytes, big-endian) and
// an Ed25519 signature of "cosignature/v1\ntime T\n" followed by the text.
type cosigV1 struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v cosigV1) Name() string    { return v.name }
func (v cosigV1) KeyHash() uint32 { return v.hash }
func (v cosigV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t >= 1<<63 {
		return false
	}
	m := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.pub, m, sig[8:])
}

func witnessVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("witness vkey %q: want NAME+HASH+KEY", vkey)
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil || len(parts[1]) != 8 {
		return nil, fmt.Errorf("witness vkey %q: bad key hash", vkey)
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != 0x04 {
		return nil, fmt.Errorf("witness vkey %q: not an Ed25519 cosignature key", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
	if binary.BigEndian.Uint32(h[:4]) != uint32(hash) {
		return nil, fmt.Errorf("witness vkey %q: key hash does not match", vkey)
	}
	return cosigV1{parts[0], uint32(hash), ed25519.PublicKey(key[1:])}, nil
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: note_check NOTE_FILE LOG_VKEY [WITNESS_VKEY...]")
	}
	msg, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	log, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("log vkey: %v", err)
	}
	verifiers := []note.Verifier{log}
	for _, w := range os.Args[3:] {
		v, err := witnessVerifier(w)
		if err != nil {
			fail("%v", err)
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fail("%v", err)
	}
	logSigned := false
	for _, s := range n.Sigs {
		logSigned = logSigned || (s.Name == log.Name() && s.Hash == log.KeyHash())
	}
	if !logSigned {
		fail("not signed by the log")
	}
	// c2sp.org/tlog-checkpoint: origin, size, root; the origin is the key name.
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != log.Name() {
		fail("not a checkpoint of %s", log.Name())
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		fail("bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		fail("bad root hash %q", lines[2])
	}
	fmt.Printf("ok %s %d %s\n", lines[0], size, lines[2])
	for _, s := range n.Sigs {
		fmt.Printf("signed %s\n", s.Name)
	}
}
