package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

// bbolt trusts its file: a corrupt page can send it out of the mapping
// (a fault, which we turn into a panic and recover) or into a cycle of
// branch pages, which recurses until the Go stack overflows — a fatal
// error no recover can catch. So before a store is used, verifyLayout walks
// the page graph of the file (through a read-only mapping of its own, with
// Go's bounds checks) with a visited set, and refuses anything bbolt could
// not walk safely. The layout
// below is bbolt's on-disk format version 2 (unchanged since boltdb 1.0), in
// the machine's byte order as bbolt writes it.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	elemSize       = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	metaSize       = 64 // magic, version, pageSize, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	inBucketSize   = 16 // root pgid u64, sequence u64; an inline page follows when root is 0
	flagBranch     = 0x01
	flagLeaf       = 0x02
	flagMeta       = 0x04
	flagFreelist   = 0x10
	bucketLeafFlag = 0x01
	noFreelist     = ^uint64(0)
	maxTreeDepth   = 64 // a B+tree of 2^64 entries is far shallower
)

var ne = binary.NativeEndian

type boltMeta struct {
	pageSize            uint32
	root, freelist, hwm uint64
	txid                uint64
	valid               bool // magic, version, checksum and page type all right
}

// parseMeta decodes a meta page (header and meta) as bbolt validates it.
func parseMeta(page []byte) boltMeta {
	var m boltMeta
	if len(page) < pageHeaderSize+metaSize {
		return m
	}
	b := page[pageHeaderSize:]
	m.pageSize = ne.Uint32(b[8:])
	m.root = ne.Uint64(b[16:])
	m.freelist = ne.Uint64(b[32:])
	m.hwm = ne.Uint64(b[40:])
	m.txid = ne.Uint64(b[48:])
	h := fnv.New64a()
	h.Write(b[:56])
	m.valid = ne.Uint32(b[0:]) == boltMagic && ne.Uint32(b[4:]) == boltVersion &&
		h.Sum64() == ne.Uint64(b[56:]) && ne.Uint16(page[8:]) == flagMeta
	return m
}

// hasBoltMagic reports whether head (the start of a file) looks like a bbolt
// database: a meta page at offset 0, or at the usual page sizes for page 1.
func hasBoltMagic(head []byte) bool {
	for _, off := range []int{0, 4096, 16384, 65536} {
		if len(head) >= off+pageHeaderSize+4 && ne.Uint32(head[off+pageHeaderSize:]) == boltMagic {
			return true
		}
	}
	return false
}

var errLayout = errors.New("damaged page structure")

type layoutWalker struct {
	data  []byte // the whole file
	psz   uint64
	hwm   uint64
	used  []uint64 // bitmap of pages reached from the meta page
	freed []uint64 // bitmap of pages listed as free
}

func bit(m []uint64, i uint64) bool { return m[i/64]&(1<<(i%64)) != 0 }
func setBit(m []uint64, i uint64)   { m[i/64] |= 1 << (i % 64) }

// verifyLayout checks the page graph of the bbolt file data (all of it,
// normally mapped) as of transaction txid: every page bbolt may follow from
// the meta page lies inside the file, is referenced once, has the right
// type, holds its elements inside its bounds in strictly increasing key
// order, and is not also listed as free; nested buckets are checked the
// same way.
func verifyLayout(data []byte, pageSize int, txid uint64) error {
	psz := uint64(pageSize)
	if pageSize < 512 || pageSize > 1<<20 || psz&(psz-1) != 0 {
		return fmt.Errorf("%w: page size %d", errLayout, pageSize)
	}
	if uint64(len(data)) < 2*psz {
		return fmt.Errorf("%w: file shorter than two pages", errLayout)
	}
	var chosen *boltMeta
	for i := uint64(0); i < 2; i++ {
		m := parseMeta(data[i*psz : (i+1)*psz])
		if m.valid && m.txid == txid && chosen == nil {
			chosen = &m
		}
	}
	if chosen == nil {
		return fmt.Errorf("%w: no valid meta page for transaction %d", errLayout, txid)
	}
	m := *chosen
	if uint64(m.pageSize) != psz {
		return fmt.Errorf("%w: meta page size %d differs from %d", errLayout, m.pageSize, psz)
	}
	if m.hwm < 3 || m.hwm > uint64(len(data))/psz {
		return fmt.Errorf("%w: high-water mark of %d pages does not fit a file of %d bytes", errLayout, m.hwm, len(data))
	}
	w := &layoutWalker{data: data, psz: psz, hwm: m.hwm, used: make([]uint64, (m.hwm+63)/64), freed: make([]uint64, (m.hwm+63)/64)}
	setBit(w.used, 0)
	setBit(w.used, 1)
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := w.tree(m.root, 0); err != nil {
		return err
	}
	for i := range w.used {
		if both := w.used[i] & w.freed[i]; both != 0 {
			return fmt.Errorf("%w: a page is both in use and free", errLayout)
		}
	}
	return nil
}

// page returns page id with its overflow pages and marks them used.
func (w *layoutWalker) page(id uint64) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("%w: page %d outside 2..%d", errLayout, id, w.hwm-1)
	}
	hdr := w.data[id*w.psz:]
	if got := ne.Uint64(hdr); got != id {
		return nil, fmt.Errorf("%w: page %d says it is page %d", errLayout, id, got)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if overflow >= w.hwm-id {
		return nil, fmt.Errorf("%w: page %d overflows the file", errLayout, id)
	}
	for i := id; i <= id+overflow; i++ {
		if bit(w.used, i) {
			return nil, fmt.Errorf("%w: page %d is referenced twice", errLayout, i)
		}
		setBit(w.used, i)
	}
	return w.data[id*w.psz : (id+1+overflow)*w.psz], nil
}

func (w *layoutWalker) freelist(id uint64) error {
	p, err := w.page(id)
	if err != nil {
		return err
	}
	if ne.Uint16(p[8:]) != flagFreelist {
		return fmt.Errorf("%w: page %d is not a freelist page", errLayout, id)
	}
	start, n := uint64(pageHeaderSize), uint64(ne.Uint16(p[10:]))
	if n == 0xFFFF { // the real count is the first element
		n = ne.Uint64(p[pageHeaderSize:])
		start += 8
	}
	if n > (uint64(len(p))-start)/8 {
		return fmt.Errorf("%w: freelist count %d exceeds its page", errLayout, n)
	}
	for i := uint64(0); i < n; i++ {
		f := ne.Uint64(p[start+8*i:])
		if f < 2 || f >= w.hwm {
			return fmt.Errorf("%w: free page %d outside the file", errLayout, f)
		}
		if bit(w.freed, f) {
			return fmt.Errorf("%w: page %d freed twice", errLayout, f)
		}
		setBit(w.freed, f)
	}
	return nil
}

func (w *layoutWalker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("%w: tree deeper than %d", errLayout, maxTreeDepth)
	}
	p, err := w.page(id)
	if err != nil {
		return err
	}
	return w.node(p, id, depth, false)
}

// node checks one branch or leaf page (p), or an inline bucket page held in
// a leaf value (inline), and descends into its children.
func (w *layoutWalker) node(p []byte, id uint64, depth int, inline bool) error {
	if len(p) < pageHeaderSize {
		return fmt.Errorf("%w: inline page in page %d is too short", errLayout, id)
	}
	flags, count := ne.Uint16(p[8:]), uint64(ne.Uint16(p[10:]))
	if pageHeaderSize+count*elemSize > uint64(len(p)) {
		return fmt.Errorf("%w: page %d: %d elements do not fit", errLayout, id, count)
	}
	var prev []byte
	key := func(i, pos, ksize uint64) ([]byte, error) {
		start := pageHeaderSize + i*elemSize + pos
		if ksize == 0 || start+ksize > uint64(len(p)) || pos > uint64(len(p)) {
			return nil, fmt.Errorf("%w: page %d: element %d out of bounds", errLayout, id, i)
		}
		k := p[start : start+ksize]
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return nil, fmt.Errorf("%w: page %d: keys out of order", errLayout, id)
		}
		prev = k
		return k, nil
	}
	switch {
	case flags == flagBranch && !inline:
		if count == 0 {
			return fmt.Errorf("%w: empty branch page %d", errLayout, id)
		}
		children := make([]uint64, count)
		for i := uint64(0); i < count; i++ {
			e := p[pageHeaderSize+i*elemSize:]
			if _, err := key(i, uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:]))); err != nil {
				return err
			}
			children[i] = ne.Uint64(e[8:])
		}
		for _, c := range children {
			if err := w.tree(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	case flags == flagLeaf:
		for i := uint64(0); i < count; i++ {
			e := p[pageHeaderSize+i*elemSize:]
			eflags, pos, ksize, vsize := ne.Uint32(e[0:]), uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
			if _, err := key(i, pos, ksize); err != nil {
				return err
			}
			vstart := pageHeaderSize + i*elemSize + pos + ksize
			if vstart+vsize > uint64(len(p)) {
				return fmt.Errorf("%w: page %d: value %d out of bounds", errLayout, id, i)
			}
			switch eflags {
			case 0:
			case bucketLeafFlag:
				v := p[vstart : vstart+vsize]
				if len(v) < inBucketSize {
					return fmt.Errorf("%w: page %d: short bucket header", errLayout, id)
				}
				if root := ne.Uint64(v); root != 0 {
					if err := w.tree(root, depth+1); err != nil {
						return err
					}
				} else if depth+1 > maxTreeDepth {
					return fmt.Errorf("%w: tree deeper than %d", errLayout, maxTreeDepth)
				} else if err := w.node(v[inBucketSize:], id, depth+1, true); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%w: page %d: element flags %#x", errLayout, id, eflags)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: page %d has type flags %#x", errLayout, id, flags)
}
