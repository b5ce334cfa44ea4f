package chain

// Version bytes of serialized extended public keys, by their base58 prefix.
var (
	VersionXpub = [4]byte{0x04, 0x88, 0xb2, 0x1e} // xpub
	VersionTpub = [4]byte{0x04, 0x35, 0x87, 0xcf} // tpub
	VersionLtub = [4]byte{0x01, 0x9d, 0xa4, 0x62} // Ltub (@tatumio/tatum LTC_NETWORK)
	VersionTtub = [4]byte{0x04, 0x36, 0xf6, 0xe1} // ttub (@tatumio/tatum LTC_TEST_NETWORK)
)

// TestnetCoin is the BIP44 coin type of Tatum's testnet wallets: m/44'/1'/...
// for every chain except BCH and TRON, which keep their mainnet path.
const TestnetCoin = 1

const testnetCoin = TestnetCoin

const coin = 100_000_000 // satoshis per coin on the UTXO chains

// maxGasEIP7825 is Ethereum's per-transaction gas cap since Osaka (EIP-7825).
const maxGasEIP7825 = 1 << 24

// maxGasDefault bounds other EVM chains: larger than any single transaction
// Tatum builds (a big contract deployment is a few million gas), smaller
// than a whole block on the chains that have big blocks.
const maxGasDefault = 30_000_000

// offchainWithdrawal marks c's off-chain withdrawals as posted to Tatum's
// off-chain withdrawal endpoint (see Chain.OffchainWithdrawal).
func offchainWithdrawal(c Chain) Chain { c.OffchainWithdrawal = true; return c }

// evm is an EVM chain: ethereumjs-wallet's hdkey always serializes with
// bitcoin mainnet versions, so an EVM xpub is "xpub..." on testnet too.
func evm(code, name string, coinType uint32, addr AddressKind, broadcast string, dynamicFee bool, maxGas uint64,
	mainID uint64, mainGateway string, testID uint64, testName, testGateway string) Chain {
	return Chain{
		Code: code, Name: name, Family: EVM, Broadcast: broadcast, DynamicFee: dynamicFee, MaxGas: maxGas,
		Mainnet: Network{CoinType: coinType, XpubVersion: VersionXpub, XpubAddress: addr, KeyAddress: addr,
			ChainID: mainID, Gateway: mainGateway},
		Testnet: Network{CoinType: testnetCoin, XpubVersion: VersionXpub, XpubAddress: addr, KeyAddress: addr,
			ChainID: testID, Name: testName, Gateway: testGateway},
	}
}

// table is the one list of chains. Paths, version bytes and encodings copy
// what tatum-kms 8.0.1 produces through the Tatum SDKs it calls
// (@tatumio/tatum 1.37.x, @tatumio/celo and @tatumio/tron 2.2.x), quirks
// included (docs/keys.md); broadcast names are those of the SDKs' *Broadcast
// calls. EVM testnets are those Tatum serves today (2026): Celo moved from
// Alfajores (44787, shut down 2025-09) to Celo Sepolia, Polygon from Mumbai to
// Amoy, Klaytn's Baobab is now Kaia Kairos with the same id.
var table = []Chain{
	{
		Code: "BTC", Name: "Bitcoin", Family: UTXO, Broadcast: "bitcoin", OffchainWithdrawal: true, Segwit: true, MaxMoney: 21e6 * coin,
		// generateAddressFromXPub gives P2WPKH (bc1q...), while
		// generateAddressFromPrivatekey gives P2PKH (1...): copied.
		Mainnet: Network{CoinType: 0, XpubVersion: VersionXpub, PubKeyHash: 0x00, ScriptHash: 0x05, WIF: 0x80, Bech32HRP: "bc",
			XpubAddress: P2WPKH, KeyAddress: P2PKH},
		Testnet: Network{CoinType: testnetCoin, XpubVersion: VersionTpub, PubKeyHash: 0x6f, ScriptHash: 0xc4, WIF: 0xef, Bech32HRP: "tb",
			XpubAddress: P2WPKH, KeyAddress: P2PKH},
	},
	{
		// Litecoin: L/M addresses, ltc1; testnet m/n and Q, tltc1.
		Code: "LTC", Name: "Litecoin", Family: UTXO, Broadcast: "litecoin", OffchainWithdrawal: true, Segwit: true, MaxMoney: 84e6 * coin,
		Mainnet: Network{CoinType: 2, XpubVersion: VersionLtub, PubKeyHash: 0x30, ScriptHash: 0x32, WIF: 0xb0, Bech32HRP: "ltc",
			XpubAddress: P2PKH, KeyAddress: P2PKH},
		Testnet: Network{CoinType: testnetCoin, XpubVersion: VersionTtub, PubKeyHash: 0x6f, ScriptHash: 0x3a, WIF: 0xef, Bech32HRP: "tltc",
			XpubAddress: P2PKH, KeyAddress: P2PKH},
	},
	{
		// Dogecoin has no segwit; MAX_MONEY in dogecoin's amount.h is 10 billion coins.
		Code: "DOGE", Name: "Dogecoin", Family: UTXO, Broadcast: "dogecoin", OffchainWithdrawal: true, MaxMoney: 10e9 * coin,
		Mainnet: Network{CoinType: 3, XpubVersion: VersionXpub, PubKeyHash: 0x1e, ScriptHash: 0x16, WIF: 0x9e,
			XpubAddress: P2PKH, KeyAddress: P2PKH},
		Testnet: Network{CoinType: testnetCoin, XpubVersion: VersionTpub, PubKeyHash: 0x71, ScriptHash: 0xc4, WIF: 0xf1,
			XpubAddress: P2PKH, KeyAddress: P2PKH},
	},
	{
		// Bitcoin Cash: legacy address bytes as bitcoin's (cashaddr encodes the
		// same hash). Testnet keeps the mainnet path m/44'/145'/0'/0 (Tatum:
		// "historically uses mainnet derivation path"), with tpub serialization.
		Code: "BCH", Name: "Bitcoin Cash", Family: UTXO, Broadcast: "bcash", OffchainWithdrawal: true, ForkID: true, MaxMoney: 21e6 * coin,
		Mainnet: Network{CoinType: 145, XpubVersion: VersionXpub, PubKeyHash: 0x00, ScriptHash: 0x05, WIF: 0x80, CashAddrPrefix: "bitcoincash",
			XpubAddress: CashAddr, KeyAddress: CashAddr},
		Testnet: Network{CoinType: 145, XpubVersion: VersionTpub, PubKeyHash: 0x6f, ScriptHash: 0xc4, WIF: 0xef, CashAddrPrefix: "bchtest",
			XpubAddress: CashAddr, KeyAddress: CashAddr},
	},
	offchainWithdrawal(evm("ETH", "Ethereum", 60, EVMHex, "ethereum", true, maxGasEIP7825,
		1, "ethereum-mainnet", 11155111, "Sepolia", "ethereum-sepolia")),
	evm("BSC", "BNB Smart Chain", 60, EVMHex, "bsc", true, maxGasDefault,
		56, "bsc-mainnet", 97, "BSC testnet (Chapel)", "bsc-testnet"),
	evm("MATIC", "Polygon PoS", 966, EVMHex, "polygon", true, maxGasDefault,
		137, "polygon-mainnet", 80002, "Amoy", "polygon-amoy"),
	evm("CELO", "Celo", 52752, EVMHex, "celo", true, maxGasDefault,
		42220, "celo-mainnet", 11142220, "Celo Sepolia", "celo-sepolia"),
	evm("KLAY", "Kaia (Klaytn)", 8217, EVMHex, "klaytn", false, maxGasDefault,
		8217, "klaytn-mainnet", 1001, "Kairos (formerly Baobab)", "klaytn-baobab"),
	// The SDK's ONE address is 0x hex (basicHex), not one1 bech32.
	offchainWithdrawal(evm("ONE", "Harmony shard 0", 1023, EVMHex, "one", false, maxGasDefault,
		1666600000, "one-mainnet-s0", 1666700000, "Harmony testnet shard 0", "one-testnet-s0")),
	evm("XDC", "XDC Network", 550, XDCHex, "xdc", false, maxGasDefault,
		50, "xinfin-mainnet", 51, "Apothem", "xdc-testnet"),
	// KCS's path: docs.tatum.io / @tatumio/shared-core path table; see docs/keys.md.
	evm("KCS", "KuCoin Community Chain", 60, EVMHex, "kcs", false, maxGasDefault,
		321, "kcs-mainnet", 322, "KCC testnet", "kcs-testnet"),
	{
		// Same path and serialization on both networks (bitcoinjs bip32
		// default network: xpub).
		Code: "TRON", Name: "TRON", Family: TRON, Broadcast: "tron",
		Mainnet: Network{CoinType: 195, XpubVersion: VersionXpub, XpubAddress: TRONBase58, KeyAddress: TRONBase58},
		Testnet: Network{CoinType: 195, XpubVersion: VersionXpub, XpubAddress: TRONBase58, KeyAddress: TRONBase58},
	},
	// Keys and signers of their own (wallet/xrp.go, sol.go, xlm.go;
	// signing/xrp, sol, xlm; kms/signers_<chain>.go).
	{Code: "XRP", Name: "XRP Ledger", Family: XRP, Broadcast: "xrp"},
	{Code: "XLM", Name: "Stellar", Family: XLM, Broadcast: "xlm"},
	{Code: "SOL", Name: "Solana", Family: SOL, Broadcast: "solana"},
	// Keys of their own (wallet/algo.go: random ed25519; egld.go: SLIP-10
	// ed25519 along m/44'/coin'/0'/0'/i'; vet.go: BIP32 secp256k1 along
	// m/44'/coin'/0'/0/i) and signers (signing/algo, egld, vet). BNB has no
	// family: the chain was shut down (signing/shutdown.go).
	{Code: "ALGO", Name: "Algorand", Family: ALGO, Broadcast: "algorand"},
	{Code: "EGLD", Name: "MultiversX", Family: EGLD, Broadcast: "egld",
		Mainnet: Network{CoinType: 508}, Testnet: Network{CoinType: testnetCoin}},
	{Code: "VET", Name: "VeChain", Family: VET, Broadcast: "vet",
		Mainnet: Network{CoinType: 818}, Testnet: Network{CoinType: testnetCoin}},
	{Code: "FLOW", Name: "Flow", Family: FLOW, Broadcast: "flow"},                           // wallet/flow.go, signing/flow
	{Code: "ADA", Name: "Cardano", Family: ADA, Broadcast: "ada", OffchainWithdrawal: true}, // wallet/ada.go, signing/ada
	{Code: "BNB", Name: "BNB Beacon Chain", Broadcast: "bnb"},
}
