package pwsource_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gokms/gokms/backend/azure/azuretest"
	"github.com/gokms/gokms/backend/vgs"
	"github.com/gokms/gokms/backend/vgs/vgstest"
	"github.com/gokms/gokms/pwsource"
)

var ctx = context.Background()

func clientOptions(s *azuretest.Server) *azsecrets.ClientOptions {
	return &azsecrets.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: s.Client(),
			Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Second},
		},
		// The stand-in lives on 127.0.0.1, not under vault.azure.net.
		DisableChallengeResourceVerification: true,
	}
}

// The sources keep tatum-kms's flag names and order.
func TestSources(t *testing.T) {
	var names []string
	for _, s := range pwsource.Sources() {
		if s.Fetch == nil || s.Usage == "" {
			t.Errorf("%s: incomplete", s.Name)
		}
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "aws,azure,vgs" {
		t.Fatalf("sources %s", got)
	}
}

func TestAzure(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	s.SetDirect("kms-password", "wallet-file-password", "", nil)
	host := strings.TrimPrefix(s.URL, "https://")
	env := map[string]string{"TATUM_KMS_AZURE_VAULTURL": host, "TATUM_KMS_AZURE_SECRETNAME": "kms-password"}
	getenv := func(k string) string { return env[k] }
	o := pwsource.AzureOptions{Credential: s.Credential(), ClientOptions: clientOptions(s)}
	pw, err := pwsource.Azure(ctx, getenv, o)
	if err != nil || string(pw) != "wallet-file-password" {
		t.Fatalf("FetchPassword = %q, %v", pw, err)
	}
	env["TATUM_KMS_AZURE_SECRETNAME"] = "missing"
	if _, err := pwsource.Azure(ctx, getenv, o); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing secret: %v", err)
	}
	env["TATUM_KMS_AZURE_SECRETNAME"] = "kms-password"
	env["TATUM_KMS_AZURE_SECRETVERSION"] = "0123456789abcdef0123456789abcdef"
	if _, err := pwsource.Azure(ctx, getenv, o); err == nil {
		t.Fatal("unknown version should fail")
	}
}

func TestVGS(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	ca, err := s.WriteCACert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	alias := s.Put("wallet-file-password")
	env := map[string]string{
		"TATUM_KMS_VGS_ALIAS": alias, "TATUM_KMS_VGS_USERNAME": s.Username, "TATUM_KMS_VGS_PASSWORD": s.Password,
		"TATUM_KMS_VGS_URL": s.URL, "GOKMS_VGS_CACERT": ca,
	}
	getenv := func(k string) string { return env[k] }
	pw, err := pwsource.VGS(ctx, getenv)
	if err != nil || string(pw) != "wallet-file-password" {
		t.Fatalf("FetchPassword = %q, %v", pw, err)
	}
	env["TATUM_KMS_VGS_ALIAS"] = "tok_sandbox_doesnotexist"
	if _, err := pwsource.VGS(ctx, getenv); !errors.Is(err, vgs.ErrAliasNotFound) {
		t.Fatalf("unknown alias: %v", err)
	}
	env["TATUM_KMS_VGS_ALIAS"] = alias
	env["TATUM_KMS_VGS_PASSWORD"] = "nope"
	if _, err := pwsource.VGS(ctx, getenv); !errors.Is(err, vgs.ErrUnauthorized) {
		t.Fatalf("bad credentials: %v", err)
	}
	delete(env, "TATUM_KMS_VGS_ALIAS")
	if _, err := pwsource.VGS(ctx, getenv); err == nil || !strings.Contains(err.Error(), "TATUM_KMS_VGS_ALIAS") {
		t.Fatalf("missing alias variable: %v", err)
	}
}
