package daemon_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// TestChains16DaemonBinary runs the real `gokms daemon --runOnce --chain
// ALGO,EGLD,VET` binary on an encrypted file store against the Tatum
// stand-in, with the EGLD gateway and the VET node given by --rpc and
// TATUM_KMS_RPC_VET: each pending transaction completes with the body
// tatum-kms posts, and no secret reaches the output.
func TestChains16DaemonBinary(t *testing.T) {
	var av algoVectors
	readVectors(t, "algo", &av)
	var algoTC = av.Transactions[0]
	for _, x := range av.Transactions {
		if x.Testnet {
			algoTC = x
			break
		}
	}
	var ev struct{ Transactions []egldVector }
	readVectors(t, "egld", &ev)
	var egldTC egldVector
	for _, x := range ev.Transactions {
		if x.Testnet && x.PrivateKey != "" {
			egldTC = x
			break
		}
	}
	var vv struct{ Transactions []vetVector }
	readVectors(t, "vet", &vv)
	var vetTC vetVector
	for _, x := range vv.Transactions {
		// thorify's nonce is random: only a vector signed with the node's
		// answers and any nonce can be checked here, so check the signer.
		if x.Testnet && x.Mnemonic != "" && x.Index > 0 {
			vetTC = x
			break
		}
	}
	srv := tatumtest.New(tatumtest.Options{})
	defer srv.Close()
	eg, _ := egldGateway(t, egldTC)
	vn := vetNode(t, vetTC)

	dir := t.TempDir()
	password := "chains16-binary-password"
	storePath := filepath.Join(dir, "wallet.dat")
	st, err := file.Create(storePath, []byte(password), file.Options{KDF: &file.InsecureTestKDF})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []backend.Record{
		{ID: "algo-pk", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte(algoTC.Secret), Address: algoTC.Address},
		{ID: "egld-pk", Kind: backend.PrivateKey, Chain: "EGLD", Testnet: true, Secret: []byte(egldTC.PrivateKey)},
		{ID: "vet-mn", Kind: backend.Mnemonic, Chain: "VET", Testnet: true, Secret: []byte(vetTC.Mnemonic)},
	} {
		if err := st.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	vi := vetTC.Index
	algoID := srv.Enqueue(tatum.PendingTransaction{Chain: "ALGO", SerializedTransaction: algoTC.SerializedTransaction, Hashes: []string{"algo-pk"}})
	egldID := srv.Enqueue(tatum.PendingTransaction{Chain: "EGLD", SerializedTransaction: egldTC.SerializedTransaction, Hashes: []string{"egld-pk"}})
	vetID := srv.Enqueue(tatum.PendingTransaction{Chain: "VET", SerializedTransaction: vetTC.SerializedTransaction, Hashes: []string{"vet-mn"}, Index: &vi})

	bin := filepath.Join(dir, "gokms")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gokms/gokms/cmd/gokms").CombinedOutput(); err != nil {
		t.Fatalf("go build gokms: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "daemon", "--testnet", "--runOnce", "--chain", "ALGO,EGLD,VET", "--path", storePath, "--rpc", "EGLD="+eg.URL)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TATUM_API_URL=" + srv.URL,
		"TATUM_API_KEY=" + srv.APIKey, "TATUM_KMS_PASSWORD=" + password, "TATUM_KMS_RPC_VET=" + vn.URL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gokms daemon: %v\n%s\nreports %+v", err, out, srv.Errors())
	}
	for _, s := range []string{algoTC.Secret, egldTC.PrivateKey, vetTC.Mnemonic, password} {
		if strings.Contains(string(out), s) {
			t.Fatalf("a secret appears in the output:\n%s", out)
		}
	}
	for _, c := range []struct{ id, path, txData string }{
		{algoID, "/v3/algorand/broadcast", algoTC.TxData},
		{egldID, "/v3/egld/broadcast", egldTC.TxData},
	} {
		got := bodies(srv, c.path)
		if _, ok := srv.Completed(c.id); !ok || len(got) != 1 || !reflect.DeepEqual(got[0], map[string]any{"txData": c.txData, "signatureId": c.id}) {
			t.Fatalf("%s: posted %v\n%s", c.path, got, out)
		}
	}
	got := bodies(srv, "/v3/vet/broadcast")
	if _, ok := srv.Completed(vetID); !ok || len(got) != 1 {
		t.Fatalf("VET: posted %v\n%s", got, out)
	}
	// A random nonce: check the signer is the key getprivatekey shows by
	// the vector's checker on the raw transaction's own signing hash.
	checkVETSigner(t, got[0]["txData"].(string), vetTC.Address)
}
