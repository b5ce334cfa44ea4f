// Package pge2e holds the end-to-end tests of the shared daemon state:
// real `gokms daemon` processes on one PostgreSQL state, draining one Tatum
// stand-in into btcd regtest and go-ethereum's simulated chain, with
// daemons killed, stopped past their lease and the database restarted; and
// the drain benchmark (local journal vs PostgreSQL, one vs three daemons).
package pge2e
