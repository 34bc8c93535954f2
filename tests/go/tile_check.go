// tile_check: an independent client of the ledger's tiles
// (c2sp.org/tlog-tiles), built by tiles_test at test time. It shares no code
// with the project: the checkpoint is opened with Go's
// golang.org/x/mod/sumdb/note, and every tile is read and checked against
// the checkpoint's root by golang.org/x/mod/sumdb/tlog's TileHashReader
// (Debian's golang-golang-x-mod-dev); only the tile paths are written here,
// from the spec.
//
//	tile_check BASE_URL LOG_VKEY [flip]
//
// Reads BASE_URL/checkpoint, proves records 0, N/2 and N-1 from the tiles and
// checks each against its entry in the entry bundles, and proves the tree of
// size N/2 consistent with N. Prints "ok N RECORDS" and exits 0; or the
// reason, exit 1. With "flip" the checkpoint's root is altered first: the
// tiles must then be refused.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var base string

func get(path string) ([]byte, error) {
	res, err := http.Get(base + path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return body, nil
}

// The tile path of tlog-tiles: N in groups of three digits, all but the last
// prefixed with "x"; ".p/W" for a partial tile.
func tilePath(level string, n int64, w int) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	p := "/tile/" + level + "/" + s
	if w < 256 {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

type reader struct{}

func (reader) Height() int { return 8 }
func (reader) SaveTiles([]tlog.Tile, [][]byte) {}
func (reader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := get(tilePath(strconv.Itoa(t.L), t.N, t.W))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func entry(n, size int64) ([]byte, error) {
	w := size - n/256*256
	if w > 256 {
		w = 256
	}
	b, err := get(tilePath("entries", n/256, int(w)))
	if err != nil {
		return nil, err
	}
	for i := int64(0); ; i++ {
		if len(b) < 2 {
			return nil, fmt.Errorf("entry bundle %d ends before entry %d", n/256, n%256)
		}
		l := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+l {
			return nil, fmt.Errorf("entry bundle %d is cut", n/256)
		}
		if i == n%256 {
			return b[2 : 2+l], nil
		}
		b = b[2+l:]
	}
}

func fail(format string, a ...any) {
	fmt.Printf(format+"\n", a...)
	os.Exit(1)
}

func main() {
	base = strings.TrimSuffix(os.Args[1], "/")
	v, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("bad vkey: %v", err)
	}
	msg, err := get("/checkpoint")
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("checkpoint refused: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 2 {
		fail("bad size %q", lines[1])
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		fail("bad root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	if len(os.Args) > 3 && os.Args[3] == "flip" {
		root[0] ^= 1
	}
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, reader{})
	records := 0
	for _, i := range []int64{0, size / 2, size - 1} {
		p, err := tlog.ProveRecord(size, i, hr)
		if err != nil {
			fail("record %d: tiles refused: %v", i, err)
		}
		data, err := entry(i, size)
		if err != nil {
			fail("%v", err)
		}
		if err := tlog.CheckRecord(p, size, root, i, tlog.RecordHash(data)); err != nil {
			fail("record %d: %v", i, err)
		}
		records++
	}
	old, err := tlog.TreeHash(size/2, hr)
	if err != nil {
		fail("tree %d: %v", size/2, err)
	}
	p, err := tlog.ProveTree(size, size/2, hr)
	if err != nil {
		fail("consistency: %v", err)
	}
	if err := tlog.CheckTree(p, size, root, size/2, old); err != nil {
		fail("consistency: %v", err)
	}
	fmt.Printf("ok %d %d\n", size, records)
}
