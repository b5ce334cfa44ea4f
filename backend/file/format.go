package file

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gokms/gokms/backend"
)

// The on-disk format is specified in docs/file-format.md; keep the two in step.

const (
	// magic opens every header; it makes a hexdump self-explanatory.
	magic = "gokms/file-store"
	// formatVersion is the header version. Bump it for any incompatible change.
	formatVersion = 1
	// recordVersion is the first byte of every sealed record.
	recordVersion = 1

	kdfArgon2id  = 1 // Argon2id, version 0x13 (RFC 9106)
	aeadXChaCha  = 1 // XChaCha20-Poly1305
	keyLen       = chacha20poly1305.KeySize
	nonceLen     = chacha20poly1305.NonceSizeX
	tagLen       = chacha20poly1305.Overhead
	saltLen      = 32
	minSaltLen   = 16
	maxSaltLen   = 64
	wrappedLen   = keyLen + tagLen
	headerFixed  = len(magic) + 2 + 1 + 4 + 4 + 1 + 1 // up to and including the salt length
	maxIDLenDisk = 1 << 16                            // ids are length-prefixed with a uint16 in associated data
)

// Bucket and key names inside the bbolt container.
var (
	bucketMeta    = []byte("gokms")
	keyHeader     = []byte("header")
	bucketRecords = []byte("records")
)

// KDFParams are the Argon2id costs that turn a password into the key that
// unwraps a store's data key. They are stored in the header, so stores made
// with weaker parameters keep opening after the defaults are raised.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // parallelism (lanes)
}

// DefaultKDF is the cost for new stores: the second recommended option of
// RFC 9106 (section 4): Argon2id, t=3, m=64 MiB, p=4.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// InsecureTestKDF makes stores that open in well under a millisecond. It
// exists for tests (GOKMS_KDF=test); a store created with it is only as strong
// as its password.
var InsecureTestKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// DefaultMaxKDF bounds the costs Open runs from a header when
// Options.MaxKDF is nil. The KDF runs before the password can be checked,
// so whoever can write the file could otherwise make every unlock stall or
// be killed for memory. Create and ChangePassword refuse costs above it, so
// gokms never makes a store it would not open.
var DefaultMaxKDF = KDFParams{Time: 10, MemoryKiB: 1 << 20, Threads: 16}

// AllowTestKDFOnMainnet lets NewStoreKDF accept GOKMS_KDF=test for a
// mainnet command. Only test binaries set it (their suites store mainnet
// wallets and must stay fast); the gokms binary never does.
var AllowTestKDFOnMainnet bool

// exceeds reports whether p costs more than max in any dimension.
func (p KDFParams) exceeds(max KDFParams) bool {
	return p.Time > max.Time || p.MemoryKiB > max.MemoryKiB || p.Threads > max.Threads
}

// NewStoreKDF returns the KDF costs for a store being created (or re-keyed)
// from a GOKMS_KDF setting. Costs weaker than DefaultKDF come only from the
// explicit test setting "test", and only for testnet (or in test binaries):
// a stray setting must not leave mainnet keys behind a cheap KDF. Costs
// above DefaultMaxKDF are refused: such a store would not open.
func NewStoreKDF(setting string, testnet bool) (KDFParams, error) {
	p, err := ParseKDF(setting)
	if err != nil {
		return KDFParams{}, err
	}
	isTest := strings.TrimSpace(strings.ToLower(setting)) == "test"
	switch {
	case isTest && !testnet && !AllowTestKDFOnMainnet:
		return KDFParams{}, errors.New(`"test" makes a store only as strong as its password; it is for test suites and refused on mainnet (add --testnet, or unset it for the default costs)`)
	case !isTest && p.weakerThan(DefaultKDF):
		return KDFParams{}, fmt.Errorf("%v is weaker than the default %v; refused (unset it for the default costs; test suites use \"test\" with --testnet)", p, DefaultKDF)
	case p.exceeds(DefaultMaxKDF):
		return KDFParams{}, fmt.Errorf("%v is above what gokms opens (%v); such a store could not be unlocked", p, DefaultMaxKDF)
	}
	return p, nil
}

// Bounds accepted from a header. They keep a corrupt or hostile header from
// asking for terabytes of memory or hours of work before the password check.
const (
	maxKDFTime      = 1000
	maxKDFMemoryKiB = 4 << 20 // 4 GiB
)

// Validate reports whether p is within the bounds a header may carry.
func (p KDFParams) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Errorf("argon2id time %d out of range 1..%d", p.Time, maxKDFTime)
	case p.Threads < 1:
		return errors.New("argon2id parallelism must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range %d..%d KiB", p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemoryKiB)
	}
	return nil
}

func (p KDFParams) String() string {
	return fmt.Sprintf("argon2id t=%d m=%d p=%d", p.Time, p.MemoryKiB, p.Threads)
}

// weakerThan reports whether p costs less than q in time or memory.
func (p KDFParams) weakerThan(q KDFParams) bool {
	return p.Time < q.Time || p.MemoryKiB < q.MemoryKiB
}

// ParseKDF reads a KDF setting as GOKMS_KDF takes it: "default", "test"
// (InsecureTestKDF), or explicit costs "t=3,m=65536,p=4" (m in KiB).
func ParseKDF(s string) (KDFParams, error) {
	switch strings.TrimSpace(strings.ToLower(s)) {
	case "", "default":
		return DefaultKDF, nil
	case "test":
		return InsecureTestKDF, nil
	}
	p := KDFParams{}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return KDFParams{}, fmt.Errorf("KDF setting %q: want default, test or t=N,m=KiB,p=N", s)
		}
		seen[k] = true
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return KDFParams{}, fmt.Errorf("KDF setting %q: %s: %w", s, k, err)
		}
		switch k {
		case "t":
			p.Time = uint32(n)
		case "m":
			p.MemoryKiB = uint32(n)
		case "p":
			if n > 255 {
				return KDFParams{}, fmt.Errorf("KDF setting %q: p must be at most 255", s)
			}
			p.Threads = uint8(n)
		default:
			return KDFParams{}, fmt.Errorf("KDF setting %q: unknown parameter %q (want t, m, p)", s, k)
		}
	}
	if len(seen) != 3 {
		return KDFParams{}, fmt.Errorf("KDF setting %q: give all of t, m and p", s)
	}
	if err := p.Validate(); err != nil {
		return KDFParams{}, fmt.Errorf("KDF setting %q: %w", s, err)
	}
	return p, nil
}

// header is the decoded store header.
type header struct {
	KDF     KDFParams
	Salt    []byte
	Nonce   []byte // for the wrapped data key
	Wrapped []byte // data key sealed under the password key
	raw     []byte // the encoded header; everything before Wrapped is its associated data
}

var errHeader = errors.New("bad header")

// decodeHeader parses an encoded header strictly: unknown versions,
// algorithms, out-of-range costs and trailing bytes are errors.
func decodeHeader(b []byte) (*header, error) {
	if len(b) < headerFixed {
		return nil, fmt.Errorf("%w: %d bytes is too short", errHeader, len(b))
	}
	if string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: magic is not %q", errHeader, magic)
	}
	off := len(magic)
	if v := binary.BigEndian.Uint16(b[off:]); v != formatVersion {
		return nil, fmt.Errorf("%w: format version %d is not supported (this gokms reads version %d; a newer gokms wrote it?)", errHeader, v, formatVersion)
	}
	off += 2
	if b[off] != kdfArgon2id {
		return nil, fmt.Errorf("%w: unknown KDF %d", errHeader, b[off])
	}
	off++
	h := &header{}
	h.KDF.Time = binary.BigEndian.Uint32(b[off:])
	h.KDF.MemoryKiB = binary.BigEndian.Uint32(b[off+4:])
	h.KDF.Threads = b[off+8]
	off += 9
	if err := h.KDF.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errHeader, err)
	}
	n := int(b[off])
	off++
	if n < minSaltLen || n > maxSaltLen {
		return nil, fmt.Errorf("%w: salt length %d out of range %d..%d", errHeader, n, minSaltLen, maxSaltLen)
	}
	if want := off + n + 1 + nonceLen + wrappedLen; len(b) != want {
		return nil, fmt.Errorf("%w: length %d, want %d", errHeader, len(b), want)
	}
	h.Salt = b[off : off+n]
	off += n
	if b[off] != aeadXChaCha {
		return nil, fmt.Errorf("%w: unknown cipher %d", errHeader, b[off])
	}
	off++
	h.Nonce = b[off : off+nonceLen]
	off += nonceLen
	h.Wrapped = b[off:]
	h.raw = b
	return h, nil
}

// newHeader draws a salt and nonce and wraps dataKey under the key derived
// from password with p.
func newHeader(password []byte, p KDFParams, dataKey []byte) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(password) == 0 {
		return nil, errors.New("empty password")
	}
	b := make([]byte, 0, headerFixed+saltLen+1+nonceLen+wrappedLen)
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint16(b, formatVersion)
	b = append(b, kdfArgon2id)
	b = binary.BigEndian.AppendUint32(b, p.Time)
	b = binary.BigEndian.AppendUint32(b, p.MemoryKiB)
	b = append(b, p.Threads, saltLen)
	salt := make([]byte, saltLen)
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	b = append(b, salt...)
	b = append(b, aeadXChaCha)
	b = append(b, nonce...)
	kek := argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	defer zero(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	// The associated data is the whole header up to here, so no parameter
	// can be altered without the password check failing.
	return aead.Seal(b, nonce, dataKey, b), nil
}

// unwrap derives the password key and opens the data key. A wrong password
// and an altered header are indistinguishable by design: both fail the tag.
func (h *header) unwrap(password []byte) ([]byte, error) {
	kek := h.passwordKey(password)
	defer zero(kek)
	return h.unwrapWith(kek)
}

// passwordKey runs the KDF: Argon2id(password, salt, t, m, p) -> 32 bytes.
func (h *header) passwordKey(password []byte) []byte {
	return argon2.IDKey(password, h.Salt, h.KDF.Time, h.KDF.MemoryKiB, h.KDF.Threads, keyLen)
}

// unwrapWith opens the wrapped data key with the password key kek.
func (h *header) unwrapWith(kek []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	ad := h.raw[:len(h.raw)-wrappedLen]
	key, err := aead.Open(nil, h.Nonce, h.Wrapped, ad)
	if err != nil {
		return nil, backend.ErrBadPassword
	}
	return key, nil
}

// Record kinds in sealed metadata.
var kindCodes = map[backend.Kind]byte{backend.Mnemonic: 1, backend.PrivateKey: 2}

// Metadata flags.
const (
	flagTestnet  = 1 << 0
	flagExtraKey = 1 << 1 // the sealed secret is u32 BE len(secret) | secret | extra key
	knownFlags   = flagTestnet | flagExtraKey
)

// encodeMeta is the plaintext of a record's sealed metadata:
//
//	created int64 BE (Unix ns) | kind u8 | flags u8 (bit 0: testnet, bit 1: extra key) |
//	chain, xpub, address: each u16 BE length + bytes |
//	[layout: u16 BE length + bytes, only when the record has one]
//
// A record without an extra key or layout is encoded exactly as before
// either existed, so older stores read unchanged and older gokms versions
// read every record that does not use them.
func encodeMeta(r backend.Record) ([]byte, error) {
	code, ok := kindCodes[r.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", r.Kind)
	}
	b := make([]byte, 0, 18+len(r.Chain)+len(r.Xpub)+len(r.Address)+len(r.Layout))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Created.UnixNano()))
	var flags byte
	if r.Testnet {
		flags |= flagTestnet
	}
	if r.ExtraKey != nil {
		flags |= flagExtraKey
	}
	b = append(b, code, flags)
	fields := []string{r.Chain, r.Xpub, r.Address}
	if r.Layout != "" {
		fields = append(fields, r.Layout)
	}
	for _, f := range fields {
		if len(f) > 0xffff {
			return nil, errors.New("metadata field longer than 65535 bytes")
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

var errBadMeta = fmt.Errorf("%w: malformed metadata", errRecord)

func decodeMetaPlain(id string, b []byte) (backend.Meta, bool, error) {
	bad := errBadMeta
	if len(b) < 10 {
		return backend.Meta{}, false, bad
	}
	m := backend.Meta{ID: id, Created: time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()}
	switch b[8] {
	case 1:
		m.Kind = backend.Mnemonic
	case 2:
		m.Kind = backend.PrivateKey
	default:
		return backend.Meta{}, false, bad
	}
	if b[9]&^knownFlags != 0 {
		return backend.Meta{}, false, bad
	}
	m.Testnet = b[9]&flagTestnet != 0
	extra := b[9]&flagExtraKey != 0
	b = b[10:]
	var fields [4]string
	for i := range fields {
		if i == 3 && len(b) == 0 {
			break // no layout: a record written before layouts existed, or without one
		}
		if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			return backend.Meta{}, false, bad
		}
		n := int(binary.BigEndian.Uint16(b))
		fields[i] = string(b[2 : 2+n])
		b = b[2+n:]
	}
	if len(b) != 0 || fields[0] == "" {
		return backend.Meta{}, false, bad
	}
	m.Chain, m.Xpub, m.Address, m.Layout = fields[0], fields[1], fields[2], fields[3]
	if m.Layout != "" && backend.ValidLayout(m.Layout, m.Kind, extra) != nil {
		return backend.Meta{}, false, bad
	}
	return m, extra, nil
}

var errRecord = errors.New("record failed authentication")

// Associated-data domains. They bind each ciphertext to the record format
// version, to its role (metadata or secret) and to its id.
const (
	adMeta   = "gokms/file-store/v1/record-meta"
	adSecret = "gokms/file-store/v1/record-secret"
)

func recordAD(domain, id string, extra []byte) []byte {
	return appendAD(make([]byte, 0, len(domain)+3+len(id)+len(extra)), domain, id, extra)
}

func appendAD(ad []byte, domain, id string, extra []byte) []byte {
	ad = append(ad, domain...)
	ad = append(ad, 0)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(id)))
	ad = append(ad, id...)
	return append(ad, extra...)
}

// sealRecord encrypts r under the data key:
//
//	version(1) | len(sealedMeta) uint32 BE | sealedMeta | sealedSecret
//
// where each sealed part is nonce(24) | XChaCha20-Poly1305 ciphertext. The
// secret's associated data includes the sealed metadata, so metadata and
// secret cannot be mixed between two versions of the same id.
func sealRecord(aead cipher.AEAD, r backend.Record) ([]byte, error) {
	if len(r.ID) >= maxIDLenDisk {
		return nil, fmt.Errorf("record id is too long")
	}
	m, err := encodeMeta(r)
	if err != nil {
		return nil, fmt.Errorf("encode record metadata: %w", err)
	}
	out := make([]byte, 5, 5+2*(nonceLen+tagLen)+len(m)+len(r.Secret))
	out[0] = recordVersion
	sealedMeta, err := seal(aead, nil, m, recordAD(adMeta, r.ID, nil))
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(out[1:], uint32(len(sealedMeta)))
	out = append(out, sealedMeta...)
	secret := r.Secret
	if r.ExtraKey != nil {
		secret = make([]byte, 0, 4+len(r.Secret)+len(r.ExtraKey))
		secret = binary.BigEndian.AppendUint32(secret, uint32(len(r.Secret)))
		secret = append(append(secret, r.Secret...), r.ExtraKey...)
		defer zero(secret)
	}
	return seal(aead, out, secret, recordAD(adSecret, r.ID, sealedMeta))
}

func seal(aead cipher.AEAD, dst, plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	dst = append(dst, nonce...)
	return aead.Seal(dst, nonce, plain, ad), nil
}

// splitRecord checks the framing of a sealed record.
func splitRecord(v []byte) (sealedMeta, sealedSecret []byte, err error) {
	if len(v) < 5 {
		return nil, nil, fmt.Errorf("%w: %d bytes is too short", errRecord, len(v))
	}
	if v[0] != recordVersion {
		return nil, nil, fmt.Errorf("%w: unknown record version %d", errRecord, v[0])
	}
	n := binary.BigEndian.Uint32(v[1:])
	if uint64(n) < nonceLen+tagLen || uint64(n) > uint64(len(v)-5) {
		return nil, nil, fmt.Errorf("%w: bad metadata length", errRecord)
	}
	sealedMeta, sealedSecret = v[5:5+n], v[5+n:]
	if len(sealedSecret) < nonceLen+tagLen+1 {
		return nil, nil, fmt.Errorf("%w: bad secret length", errRecord)
	}
	return sealedMeta, sealedSecret, nil
}

func open(aead cipher.AEAD, dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < nonceLen+tagLen {
		return nil, errRecord
	}
	p, err := aead.Open(dst, sealed[:nonceLen], sealed[nonceLen:], ad)
	if err != nil {
		return nil, errRecord
	}
	return p, nil
}

// metaScratch holds buffers reused across the records of one List.
type metaScratch struct{ ad, plain []byte }

// openMeta authenticates and decodes the metadata of the record stored
// under id. It never decrypts the secret. sc may be nil.
func openMeta(aead cipher.AEAD, id string, v []byte, sc *metaScratch) (backend.Meta, error) {
	sealedMeta, _, err := splitRecord(v)
	if err != nil {
		return backend.Meta{}, err
	}
	m, _, err := decodeMeta(aead, id, sealedMeta, sc)
	return m, err
}

func decodeMeta(aead cipher.AEAD, id string, sealedMeta []byte, sc *metaScratch) (backend.Meta, bool, error) {
	if len(id) >= maxIDLenDisk {
		return backend.Meta{}, false, fmt.Errorf("%w: id too long", errRecord)
	}
	if sc == nil {
		sc = &metaScratch{}
	}
	sc.ad = appendAD(sc.ad[:0], adMeta, id, nil)
	m, err := open(aead, sc.plain[:0], sealedMeta, sc.ad)
	if err != nil {
		return backend.Meta{}, false, err
	}
	sc.plain = m
	return decodeMetaPlain(id, m) // copies what it keeps
}

// openRecord authenticates and decrypts the whole record stored under id.
func openRecord(aead cipher.AEAD, id string, v []byte) (backend.Record, error) {
	sealedMeta, sealedSecret, err := splitRecord(v)
	if err != nil {
		return backend.Record{}, err
	}
	m, hasExtra, err := decodeMeta(aead, id, sealedMeta, nil)
	if err != nil {
		return backend.Record{}, err
	}
	secret, err := open(aead, nil, sealedSecret, recordAD(adSecret, id, sealedMeta))
	if err != nil {
		return backend.Record{}, err
	}
	var extra []byte
	if hasExtra {
		// Two slices of one buffer: Record.Zero wipes both.
		if len(secret) < 4 || uint64(binary.BigEndian.Uint32(secret)) > uint64(len(secret)-4) ||
			binary.BigEndian.Uint32(secret) == 0 || int(binary.BigEndian.Uint32(secret)) == len(secret)-4 {
			zero(secret)
			return backend.Record{}, fmt.Errorf("%w: malformed secret with extra key", errRecord)
		}
		n := int(binary.BigEndian.Uint32(secret))
		secret, extra = secret[4:4+n:4+n], secret[4+n:]
	}
	return backend.Record{ID: id, Kind: m.Kind, Chain: m.Chain, Testnet: m.Testnet, Secret: secret, Xpub: m.Xpub, Address: m.Address, Created: m.Created,
		ExtraKey: extra, Layout: m.Layout}, nil
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
