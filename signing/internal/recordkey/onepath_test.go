package recordkey

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// recordDecoders are the package wallet functions that turn a stored
// record's secret into a chain's signing key: kms's key table calls them,
// the chain signers must not (they get the table's KeyDecoder).
var recordDecoders = map[string]bool{
	"DecodeSolanaPrivateKey": true, "SolanaKeyFromMnemonic": true,
	"DecodeStellarSecret": true, "XRPKeyFromSecret": true, "AlgoKeyFromSecret": true,
	"EGLDKeyFromMnemonic": true, "EGLDKeyFromPrivateKey": true,
	"VETKeyFromMnemonic": true, "VETKeyFromPrivateKey": true,
	"FlowKeyFromMnemonic": true, "DecodeFlowPrivateKey": true,
	"CardanoKeyFromMnemonic": true, "DecodeCardanoPrivateKey": true,
	"DeriveKey": true, "DecodePrivateKey": true,
}

// allowed are calls that decode no record: SOL's mint key comes with the
// pending transaction (mintPK), not from the store.
var allowed = map[string]bool{"sol/sol.go DecodeSolanaPrivateKey": true}

// One record → key path: no chain signer of the daemon decodes a stored
// record itself or reads the RecordSource around this package (non-test
// code of signing/<chain>). The generic Resolver (signing, for UTXO, EVM,
// TRON) is kms's key table's twin, proved equal in kms's tests.
func TestNoChainSignerDecodesRecords(t *testing.T) {
	chains := []string{"sol", "xlm", "xrp", "algo", "egld", "vet", "ada", "flow"}
	fset := token.NewFileSet()
	seen := 0
	for _, c := range chains {
		files, err := filepath.Glob(filepath.Join("..", "..", c, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (%v)", c, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			seen++
			name := c + "/" + filepath.Base(f)
			ast.Inspect(af, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				switch {
				case pkg.Name == "wallet" && recordDecoders[sel.Sel.Name] && !allowed[name+" "+sel.Sel.Name]:
					t.Errorf("%s: %s calls wallet.%s: records are decoded by kms's key table (inject it as the signer's KeyDecoder)",
						name, fset.Position(sel.Pos()), sel.Sel.Name)
				case pkg.Name == "signing" && (sel.Sel.Name == "Records" || sel.Sel.Name == "RecordSource"):
					t.Errorf("%s: %s reads records itself: fetch them through recordkey.Keys", name, fset.Position(sel.Pos()))
				}
				return true
			})
		}
	}
	if seen < len(chains)*2 {
		t.Fatalf("read %d files of %d chains", seen, len(chains))
	}
}
