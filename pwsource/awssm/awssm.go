// Package awssm fetches the wallet-store password from AWS Secrets Manager,
// as tatum-kms's --aws does: GetSecretValue(SecretId=TATUM_KMS_AWS_SECRET_NAME),
// the SecretString parsed as a JSON object, the password at key
// TATUM_KMS_AWS_SECRET_KEY, in region TATUM_KMS_AWS_REGION, with the access
// key TATUM_KMS_AWS_ACCESS_KEY_ID / TATUM_KMS_AWS_SECRET_ACCESS_KEY, or the
// AWS SDK's default credential chain (AWS_* variables, shared config and
// credentials files, SSO, web identity, container and EC2 instance roles)
// when those are not set.
//
// It uses the official aws-sdk-go-v2. Only the password leaves this package;
// no error carries the password, the secret string or the secret access key.
package awssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// Environment variables, named as tatum-kms names them.
const (
	EnvRegion          = "TATUM_KMS_AWS_REGION"
	EnvSecretName      = "TATUM_KMS_AWS_SECRET_NAME"
	EnvSecretKey       = "TATUM_KMS_AWS_SECRET_KEY"
	EnvAccessKeyID     = "TATUM_KMS_AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "TATUM_KMS_AWS_SECRET_ACCESS_KEY"
)

// Sentinel errors for callers that react to the cause.
var (
	ErrSecretNotFound = errors.New("secret not found")
	ErrAccessDenied   = errors.New("access denied")
	ErrBadSecret      = errors.New("secret does not hold a password")
)

// Config says where the password is.
type Config struct {
	Region     string // AWS region, e.g. eu-central-1
	SecretName string // the SecretId: a secret's name or ARN
	SecretKey  string // the key of the password in the secret's JSON
	// AccessKeyID and SecretAccessKey select static credentials; leave both
	// empty for the SDK's default credential chain.
	AccessKeyID     string
	SecretAccessKey string
	// Endpoint overrides the Secrets Manager endpoint URL (a VPC endpoint,
	// a local stand-in). Empty uses the SDK's resolution, which also honours
	// AWS_ENDPOINT_URL_SECRETS_MANAGER.
	Endpoint string
	// HTTPClient overrides the SDK's HTTP client (custom CAs, proxies).
	HTTPClient *http.Client
}

// ConfigFromEnv reads the tatum-kms variables; getenv is usually os.Getenv.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Region:          strings.TrimSpace(getenv(EnvRegion)),
		SecretName:      strings.TrimSpace(getenv(EnvSecretName)),
		SecretKey:       getenv(EnvSecretKey),
		AccessKeyID:     strings.TrimSpace(getenv(EnvAccessKeyID)),
		SecretAccessKey: strings.TrimSpace(getenv(EnvSecretAccessKey)),
	}
}

func (c Config) validate() error {
	var missing []string
	if c.SecretName == "" {
		missing = append(missing, EnvSecretName)
	}
	if c.SecretKey == "" {
		missing = append(missing, EnvSecretKey)
	}
	if len(missing) > 0 {
		return fmt.Errorf("AWS Secrets Manager password: set %s", strings.Join(missing, " and "))
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return fmt.Errorf("AWS Secrets Manager password: set both %s and %s, or neither to use the default AWS credential chain",
			EnvAccessKeyID, EnvSecretAccessKey)
	}
	return nil
}

// FetchPassword returns the password stored in AWS Secrets Manager. The
// caller owns the returned slice and should zero it when done.
func FetchPassword(ctx context.Context, cfg Config) ([]byte, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS Secrets Manager password: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("AWS Secrets Manager password: no region: set %s (or AWS_REGION)", EnvRegion)
	}
	client := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	where := fmt.Sprintf("AWS Secrets Manager secret %q in %s", cfg.SecretName, awsCfg.Region)
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(cfg.SecretName)})
	if err != nil {
		return nil, describe(where, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("%s has no SecretString (a binary secret); store a JSON object like {%q: \"<password>\"}: %w",
			where, cfg.SecretKey, ErrBadSecret)
	}
	return passwordAt(where, *out.SecretString, cfg.SecretKey)
}

// passwordAt extracts the password from the secret's JSON. Its errors never
// quote the JSON (a syntax error message would show part of it).
func passwordAt(where, secretString, key string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secretString), &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s: SecretString is not a JSON object; tatum-kms expects {%q: \"<password>\"}: %w", where, key, ErrBadSecret)
	}
	raw, ok := obj[key]
	if !ok {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%s has no key %q (its keys: %s): %w", where, key, strings.Join(keys, ", "), ErrBadSecret)
	}
	var pw string
	if err := json.Unmarshal(raw, &pw); err != nil {
		return nil, fmt.Errorf("%s: the value at key %q is not a string: %w", where, key, ErrBadSecret)
	}
	if pw == "" {
		return nil, fmt.Errorf("%s: the password at key %q is empty: %w", where, key, ErrBadSecret)
	}
	return []byte(pw), nil
}

// describe turns an SDK error into one line that says what to do.
func describe(where string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		switch code {
		case "ResourceNotFoundException":
			return fmt.Errorf("%s: not found (%s): %w", where, msg, ErrSecretNotFound)
		case "AccessDeniedException":
			return fmt.Errorf("%s: access denied; the credentials need secretsmanager:GetSecretValue on it (and kms:Decrypt on its key) (%s): %w", where, msg, ErrAccessDenied)
		case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId":
			return fmt.Errorf("%s: AWS rejected the credentials (%s: %s): check %s/%s or the default credential chain: %w",
				where, code, msg, EnvAccessKeyID, EnvSecretAccessKey, ErrAccessDenied)
		case "DecryptionFailure":
			return fmt.Errorf("%s: cannot decrypt it with its KMS key (%s): %w", where, msg, ErrAccessDenied)
		}
		return fmt.Errorf("%s: %s: %s", where, code, msg)
	}
	// The SDK reports a credential chain that found nothing only as text.
	if strings.Contains(err.Error(), "get credentials") {
		return fmt.Errorf("%s: no usable AWS credentials: set %s and %s, or configure the default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, an instance or pod role): %w",
			where, EnvAccessKeyID, EnvSecretAccessKey, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}
