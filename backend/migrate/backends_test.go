package migrate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/azure"
	"github.com/gokms/gokms/backend/azure/azuretest"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/migrate"
	"github.com/gokms/gokms/backend/vgs"
	"github.com/gokms/gokms/backend/vgs/vgstest"
)

// TestMigrateAcrossBackends moves a file store to Azure Key Vault, from
// there to VGS, and back into a new file store, through the real clients and
// the stand-ins, and checks nothing was lost or changed on the way.
func TestMigrateAcrossBackends(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := file.Create(filepath.Join(dir, "src.dat"), []byte("source password"), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var want []backend.Record
	for i := 0; i < 60; i++ {
		r := backend.Record{ID: fmt.Sprintf("6f1c2a9e-0000-4000-8000-%012d", i), Kind: backend.PrivateKey, Chain: "ETH",
			Testnet: i%2 == 0, Secret: []byte(fmt.Sprintf("0x%064x", i+1)), Address: fmt.Sprintf("0x%040x", i)}
		if i%3 == 0 {
			r.Kind, r.Chain, r.Address = backend.Mnemonic, "BTC", ""
			r.Secret = []byte(strings.Repeat(fmt.Sprintf("word%d ", i), 23) + "last")
			r.Xpub = fmt.Sprintf("tpub%d", i)
		}
		want = append(want, r)
	}
	if err := backend.PutAll(ctx, src, want); err != nil {
		t.Fatal(err)
	}

	kv := azuretest.New()
	defer kv.Close()
	az, err := azure.New(azure.Options{VaultURL: kv.URL, Credential: kv.Credential(), ClientOptions: &azsecrets.ClientOptions{
		ClientOptions:                        azcore.ClientOptions{Transport: kv.Client(), Retry: policy.RetryOptions{RetryDelay: time.Millisecond}},
		DisableChallengeResourceVerification: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	vs := vgstest.New()
	defer vs.Close()
	vb, err := vgs.New(vgs.Options{IndexPath: filepath.Join(dir, "vgs-index.db"),
		Client: &vgs.Client{BaseURL: vs.URL, Username: vs.Username, Password: vs.Password, HTTP: vs.Client(), Retries: 2, Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := file.Create(filepath.Join(dir, "dst.dat"), []byte("destination password"), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	hops := []struct {
		name     string
		from, to backend.SecretBackend
	}{{"file->azure", src, az}, {"azure->vgs", az, vb}, {"vgs->file", vb, dst}}
	for _, h := range hops {
		rep, err := migrate.Copy(ctx, h.from, h.to, migrate.Options{BatchSize: 25})
		if err != nil {
			t.Fatalf("%s: %v", h.name, err)
		}
		if rep.Copied != len(want) || rep.Skipped != 0 || len(rep.Conflicts) != 0 {
			t.Fatalf("%s: copied %d skipped %d conflicts %v", h.name, rep.Copied, rep.Skipped, rep.Conflicts)
		}
		// A second run finds everything in place.
		rep, err = migrate.Copy(ctx, h.from, h.to, migrate.Options{})
		if err != nil || rep.Copied != 0 || rep.Skipped != len(want) {
			t.Fatalf("%s re-run: %+v %v", h.name, rep, err)
		}
	}
	for _, w := range want {
		got, err := dst.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !migrate.Same(got, w) {
			t.Fatalf("record %s changed on the way through azure and vgs", w.ID)
		}
		if _, err := src.Get(ctx, w.ID); err != nil {
			t.Fatalf("migration removed %s from the source: %v", w.ID, err)
		}
	}
}
