package hashivault

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/migrate"
)

// file -> Vault -> file loses nothing: every record comes back byte for
// byte with its metadata, and a second run copies nothing.
func TestMigrateFileToVaultAndBack(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	opts := file.Options{KDF: &file.InsecureTestKDF}
	src, err := file.Create(filepath.Join(dir, "src.dat"), []byte("pw-src"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var want []backend.Record
	for i := 0; i < 120; i++ {
		r := backend.Record{ID: fmt.Sprintf("mig-%03d", i), Kind: backend.PrivateKey, Chain: "ETH", Testnet: i%2 == 0,
			Secret: []byte(fmt.Sprintf("0x%064x", i+1)), Address: fmt.Sprintf("0x%040x", i)}
		if i%3 == 0 {
			r.Kind, r.Chain, r.Address = backend.Mnemonic, "BTC", ""
			r.Secret = []byte(fmt.Sprintf("word%d abandon abandon about", i))
			r.Xpub = fmt.Sprintf("tpubD6NzVbkrYhZ4X%03d", i)
		}
		want = append(want, r)
	}
	want = append(want, backend.Record{ID: "odd/id with space", Kind: backend.PrivateKey, Chain: "TRON", Secret: []byte{0, 1, 2, 255}})
	if err := backend.PutAll(ctx, src, want); err != nil {
		t.Fatal(err)
	}

	v := newBackend(t, dev.RootToken, uniquePath("migrate"))
	rep, err := migrate.Copy(ctx, src, v, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != len(want) {
		t.Fatalf("copied %d of %d", rep.Copied, len(want))
	}
	if rep, err := migrate.Copy(ctx, src, v, migrate.Options{}); err != nil || rep.Copied != 0 || rep.Skipped != len(want) {
		t.Fatalf("second run: %+v %v", rep, err)
	}

	back, err := file.Create(filepath.Join(dir, "back.dat"), []byte("pw-back"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if rep, err := migrate.Copy(ctx, v, back, migrate.Options{}); err != nil || rep.Copied != len(want) {
		t.Fatalf("Vault -> file: %+v %v", rep, err)
	}
	for _, r := range want {
		got, err := back.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !migrate.Same(got, r) {
			t.Fatalf("%s changed on the way through Vault", r.ID)
		}
		inVault, err := v.Get(ctx, r.ID)
		if err != nil || !inVault.Created.Equal(got.Created) {
			t.Fatalf("%s: creation time not carried over (%v)", r.ID, err)
		}
	}
}
