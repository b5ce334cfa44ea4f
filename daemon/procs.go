package daemon

// SyncProcs is how many more of the Go runtime's processors (GOMAXPROCS)
// than it would use by default a daemon process runs with (gokms daemon
// raises it at start, unless GOMAXPROCS is set in its environment; the
// drain benchmarks run so too).
//
// Why: a durable write (the journal's commit, the audit log's fsync; at
// most those two are in the kernel at once) blocks its thread for the whole
// call, a millisecond or more, and that thread keeps its processor until
// the runtime's monitor takes it back. Between bursts of syscalls the
// monitor backs off to sleeps of up to 10 ms (golang/go#18236), so the
// processor usually stays idle for the whole fsync: on 2 CPUs, the two
// fsyncs of a transaction with the audit trail left Go code one processor
// most of the time. Two more keep every CPU running Go code meanwhile; on
// a quiet 2-CPU machine the drain with the journal and the audit trail ran
// about twice as fast with them (docs/daemon.md).
const SyncProcs = 2
